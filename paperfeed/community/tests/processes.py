"""Race real processes against the test run's database.

Each process is a fresh Python with its own database connection, as separate web
processes would be. On SQLite the test database (in memory) is first copied to a file,
so the processes share it through SQLite's real file locking (WAL, IMMEDIATE), the way a
laptop install runs; on PostgreSQL they connect to the test database itself. Read the
outcome with :func:`query_one` (SQLite: the file the processes wrote).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[3]

# Prepended to every child script: Django set up, and ``phase(n)`` to wait for the start.
PRELUDE = """
import os, sys, time
from pathlib import Path
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
django.setup()
SYNC = Path(sys.argv[1])

def phase(n):
    (SYNC / f"ready-{n}-{os.getpid()}").touch()
    while not (SYNC / f"go-{n}").exists():
        time.sleep(0.002)
"""


def _environment(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path), **extra}
    env.pop("PAPERFEED_SECRET_KEY", None)
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        connection.ensure_connection()
        target = sqlite3.connect(tmp_path / "paperfeed.sqlite3")
        connection.connection.backup(target)
        # In WAL mode already, as an installed site's file is from its first migration:
        # the copy of an in-memory database is not, and two processes that both turn it
        # to WAL at the same moment may be told "database is locked" (no busy wait for a
        # journal-mode change). Seen once in ~6 runs on a busy machine.
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
    else:
        s = connection.settings_dict
        env["DATABASE_URL"] = (f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:"
                               f"{s['PORT'] or 5432}/{s['NAME']}")
    return env


def race(tmp_path: Path, script: str, argvs: list[list[str]], phases: int = 1,
         env: dict[str, str] | None = None) -> Iterator[None]:
    """Start one process per argv; each ``phase(n)`` in the script releases them together.

    A generator: it yields once after each phase has finished in every process.
    """
    sync = tmp_path / "sync"
    sync.mkdir()
    environment = _environment(tmp_path, env or {})
    children = [subprocess.Popen([sys.executable, "-c", PRELUDE + script, str(sync), *argv],
                                 cwd=REPO, env=environment) for argv in argvs]
    try:
        for n in range(phases):
            _wait(children, lambda n=n: len(list(sync.glob(f"ready-{n}-*"))) == len(children))
            if n:
                yield  # the previous phase is done everywhere
            (sync / f"go-{n}").touch()
        for child in children:
            assert child.wait(timeout=60) == 0, "a racing process failed"
        yield
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def _wait(children: list[subprocess.Popen], done) -> None:
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, "the racing processes are stuck"
        assert all(c.poll() is None for c in children), "a racing process died"
        time.sleep(0.01)


def query_one(tmp_path: Path, sql: str, params: list) -> tuple:
    """One row of ``sql`` as the racing processes left the database."""
    if connection.vendor == "sqlite":
        db = sqlite3.connect(tmp_path / "paperfeed.sqlite3")
        try:
            return db.execute(sql, params).fetchone()
        finally:
            db.close()
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("?", "%s"), params)
        return cursor.fetchone()
