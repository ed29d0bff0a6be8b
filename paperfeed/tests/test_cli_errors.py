"""The console script as an operator meets it: usage errors and a database never migrated.

Each test runs ``python -m paperfeed.cli`` in a child process with a data directory of
its own, as a person would, so nothing of the test run's own database setup helps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from paperfeed.cli import EXIT_UNMIGRATED, main


def _paperfeed(data_dir: Path, *args: str, database_url: str | None = None
               ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAPERFEED_", "DATABASE_URL"))}
    env.update(PAPERFEED_DATA_DIR=str(data_dir), PAPERFEED_SOURCES_DELAY="0")
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "paperfeed.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, says", [
    (["ingest", "hf-daily", "--date", "2026-13-01"],
     "argument --date: '2026-13-01' is not a date like 2026-07-31"),
    (["ingest", "arxiv-oai", "--from", "notadate"], "argument --from: 'notadate' is not a date"),
    (["ingest", "arxiv-oai", "--until", "2015-02-30"], "argument --until: '2015-02-30' is not"),
    (["ingest", "hf-daily", "--week", "2026-W60"], "'2026-W60' is not an ISO week"),
    (["ingest", "hf-daily", "--month", "2026-13"], "'2026-13' is not a month"),
    (["ingest", "kaggle", "f.json", "--batch-size", "0"], "'0' is not a whole number of 1"),
    (["ingest", "kaggle", "f.json", "--workers", "-1"], "'-1' is not a whole number of 0"),
    (["ingest", "arxiv-api", "--query", "x", "--max", "many"], "'many' is not a whole number"),
    (["ingest", "arxiv-rss", "--category", "cs.AI", "--delay", "nan"], "'nan' is not a number"),
    (["worker", "--interval", "-5"], "'-5' is not a number of 0 or more"),
    (["search", "x", "--limit", "0"], "'0' is not a whole number of 1 or more"),
    (["embed", "--batch", "0"], "'0' is not a whole number of 1 or more"),
    (["serve", "--port", "70000"], "'70000' is not a port number"),
    (["serve", "--server", "uwsgi"], "argument --server: invalid choice: 'uwsgi'"),
    (["serve", "--threads", "0"], "'0' is not a whole number of 1 or more"),
    (["senddigests", "--resolve", "abc"], "'abc' is not a whole number of 1 or more"),
    (["recommend", "--every", "0"], "'0' is not a whole number of 1 or more"),
    (["ingest", "arxiv-api", "--id", "2401.12345", "abc"], "argument --id: 'abc' is not an"),
    (["ingest", "arxiv-rss", "--category", "cs.AI", "cs/LG"], "'cs/LG' is not an arXiv categ"),
    (["ingest", "arxiv-oai", "--set", "cs&verb=Identify"], "is not an OAI set like cs"),
    (["ingest", "hf-daily", "--base-url", "file:///etc"], "'file:///etc' is not an http(s)://"),
    (["ingest", "arxiv-oai", "--from", "2024-02-01", "--until", "2024-01-01"],
     "--from 2024-02-01 is after --until 2024-01-01"),
    (["rejected", "--show", "x"], "'x' is not a whole number of 1 or more"),
    (["bench", "ingest", "--records", "-1"], "'-1' is not a whole number of 1 or more"),
])
@pytest.mark.django_db
def test_a_bad_argument_is_one_line_and_exit_status_2(args, says, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["paperfeed", *args])
    stderr = capsys.readouterr().err
    assert exit.value.code == 2, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith((f"paperfeed {args[0]}", "CommandError: ")) and says in stderr


def test_a_bad_argument_exits_2_from_the_console_script_too(tmp_path):
    done = _paperfeed(tmp_path, "ingest", "hf-daily", "--date", "2026-13-01")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("paperfeed ingest hf-daily: error: argument --date: '2026-13-01' "
                           "is not a date like 2026-07-31\n")


@pytest.mark.parametrize("args", [["stats"], ["ingest", "kaggle", "{snapshot}", "--no-progress"],
                                  ["import-pages", "{page}"]])
def test_any_command_creates_and_migrates_a_fresh_sqlite_database(tmp_path, args, demo_seeds):
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text('{"id": "0704.0001", "title": "A paper", "categories": "hep-ph"}\n')
    data_dir = tmp_path / "fresh"
    args = [a.format(snapshot=snapshot, page=demo_seeds[0]) for a in args]
    done = _paperfeed(data_dir, *args)
    assert done.returncode == 0, done.stderr
    assert (data_dir / "paperfeed.sqlite3").exists()
    again = _paperfeed(data_dir, "showmigrations", "papers")
    assert "[ ]" not in again.stdout and "[X]" in again.stdout


def test_an_unmigrated_postgresql_database_says_to_run_migrate(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (SQLite is migrated on first use)")
    import psycopg

    name = f"pf_unmigrated_{uuid.uuid4().hex[:8]}"
    settings = connection.settings_dict
    where = dict(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                 user=settings["USER"], password=settings["PASSWORD"] or None)
    with psycopg.connect(dbname="postgres", autocommit=True, **where) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = (f"postgres://{where['user']}:{where['password'] or ''}@{where['host']}:"
               f"{where['port']}/{name}")
        for args in (["stats"], ["ingest", "kaggle", "x.json"]):
            done = _paperfeed(tmp_path, *args, database_url=url)
            assert done.returncode == EXIT_UNMIGRATED, done.stderr
            assert done.stderr.startswith(f"paperfeed {args[0]}: the database '{name}' is not "
                                          f"migrated (")
            assert done.stderr.endswith("to apply): run `paperfeed migrate` first\n")
            assert done.stderr.count("\n") == 1
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **where) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
