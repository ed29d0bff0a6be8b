"""Find per-app modules by name (``paperfeed.<app>.bench``), in INSTALLED_APPS order."""

from __future__ import annotations

import importlib
from types import ModuleType

from django.apps import apps


def discover(module_name: str) -> list[ModuleType]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("paperfeed."):
            continue
        try:
            found.append(importlib.import_module(f"{config.name}.{module_name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{module_name}":
                raise
    return found
