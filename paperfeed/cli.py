"""The ``paperfeed`` console script: Django's management commands, with friendlier names.

``paperfeed import-pages FILE`` runs the ``import_pages`` command; anything Django's
``manage.py`` accepts works too (``paperfeed migrate``, ``paperfeed createsuperuser``).

Two things every command gets here rather than in each command:

* a usage error (``--date 2026-13-01``) is one line on stderr and exit status 2;
* the database is ready: the embedded SQLite database is created and migrated on first
  use, as ``serve`` does; an unmigrated PostgreSQL database is one line telling to run
  ``paperfeed migrate`` and exit status 4 (we do not change a server's schema unasked).
"""

from __future__ import annotations

import os
import sys

# Commands that must run whatever state the database is in (or need none).
_NO_SCHEMA_NEEDED = frozenset({
    "migrate", "makemigrations", "squashmigrations", "showmigrations", "sqlmigrate",
    "sqlflush", "sqlsequencereset", "optimizemigration", "help", "version", "gendocs",
    "settings", "dbshell", "check", "test", "bench", "compilemessages", "makemessages",
    "startapp", "startproject", "diffsettings",
    "serve",  # migrates by itself, PostgreSQL included
})
EXIT_UNMIGRATED = 4


def one_line_usage_errors() -> None:
    """Usage errors as one line and exit status 2, for every command (``apps.ready``).

    argparse prints the whole usage before the error, and Django's parser raises a
    ``CommandError`` with status 1 when a command is called from code; a bad argument
    is the caller's mistake either way.
    """
    from django.core.management.base import CommandError, CommandParser

    def error(self, message: str):
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}", returncode=2)

    CommandParser.error = error


def ensure_schema(command: str) -> None:
    """Migrate the embedded SQLite database, or stop on an unmigrated PostgreSQL one."""
    if command in _NO_SCHEMA_NEEDED:
        return
    import django
    from django.conf import settings
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    django.setup()
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return  # cannot connect: the command itself says so
    if not plan:
        return
    if connection.vendor == "sqlite":
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        return
    name = settings.DATABASES["default"]["NAME"]
    sys.stderr.write(f"paperfeed {command}: the database {name!r} is not migrated "
                     f"({len(plan)} migration(s) to apply): run `paperfeed migrate` first\n")
    sys.exit(EXIT_UNMIGRATED)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "paperfeed"
    from django.core.management import execute_from_command_line

    if len(argv) > 1 and not argv[1].startswith("-") and not {"-h", "--help"} & set(argv):
        ensure_schema(argv[1])
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
