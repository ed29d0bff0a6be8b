"""The ``paperfeed`` console script: Django's management commands, with friendlier names.

``paperfeed import-pages FILE`` runs the ``import_pages`` command; anything Django's
``manage.py`` accepts works too (``paperfeed migrate``, ``paperfeed createsuperuser``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "paperfeed"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
