"""``paperfeed bench WHAT``: benchmarks, each defined by an app's ``bench`` module.

Benchmarks write their figures (with the machine they ran on) to docs/benchmarks.md;
see paperfeed/lib/benchmarks.py.
"""

from paperfeed.lib.plugins import PluginCommand


class Command(PluginCommand):
    help = "Run a benchmark and write its figures to docs/benchmarks.md."
    plugin_module = "bench"
    kind = "benchmark"
