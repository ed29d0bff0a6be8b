"""``paperfeed eval WHAT``: quality evaluations, each defined by an app's ``evaluation`` module."""

from paperfeed.lib.plugins import PluginCommand


class Command(PluginCommand):
    help = "Measure ranking quality on judged data (e.g. `paperfeed eval beir DIR`)."
    plugin_module = "evaluation"
    kind = "evaluation"
