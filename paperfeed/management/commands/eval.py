"""``paperfeed eval WHAT``: quality evaluations, each defined by an app's ``evaluation`` module.

An app joins by shipping ``paperfeed/<app>/evaluation.py`` with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(options, stdout) -> int``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.lib.plugins import discover


class Command(BaseCommand):
    help = "Measure ranking quality on judged data (e.g. `paperfeed eval beir DIR`)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", metavar="WHAT")
        sub.required = True
        for module in discover("evaluation"):
            module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))

    def handle(self, *args, what: str, **options):
        for module in discover("evaluation"):
            if module.NAME == what:
                code = module.run(options, self.stdout)
                if code:
                    raise CommandError(f"evaluation {what} failed", returncode=code)
                return
        raise CommandError(f"no evaluation named {what!r}")
