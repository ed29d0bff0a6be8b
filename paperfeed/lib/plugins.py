"""Find per-app modules by name (``paperfeed.<app>.bench``), in INSTALLED_APPS order,
and the command that dispatches to them (``paperfeed bench NAME``, ``paperfeed eval NAME``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError


def discover(module_name: str) -> list[ModuleType]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("paperfeed."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{module_name}":
                raise
            continue
        # An app with several: the module names the others in ``MORE``.
        found += [module, *map(importlib.import_module, getattr(module, "MORE", ()))]
    return found


class PluginCommand(BaseCommand):
    """A command whose subcommands are apps' modules named ``plugin_module``; each has
    ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(options, stdout) -> int``."""

    plugin_module = ""
    kind = ""

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", metavar="WHAT")
        sub.required = True
        for module in discover(self.plugin_module):
            module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))

    def handle(self, *args, what: str, **options):
        for module in discover(self.plugin_module):
            if module.NAME == what:
                code = module.run(options, self.stdout)
                if code:
                    raise CommandError(f"{self.kind} {what} failed", returncode=code)
                return
        raise CommandError(f"no {self.kind} named {what!r}")
