"""``paperfeed bench WHAT``: benchmarks, each defined by an app's ``bench`` module.

An app joins by shipping ``paperfeed/<app>/bench.py`` with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(options, stdout) -> int``. Benchmarks append their
figures (with the machine they ran on) to docs/benchmarks.md; see paperfeed/lib/benchmarks.py.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.lib.plugins import discover


class Command(BaseCommand):
    help = "Run a benchmark and write its figures to docs/benchmarks.md."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", metavar="WHAT")
        sub.required = True
        for module in discover("bench"):
            module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))

    def handle(self, *args, what: str, **options):
        for module in discover("bench"):
            if module.NAME == what:
                code = module.run(options, self.stdout)
                if code:
                    raise CommandError(f"benchmark {what} failed", returncode=code)
                return
        raise CommandError(f"no benchmark named {what!r}")
