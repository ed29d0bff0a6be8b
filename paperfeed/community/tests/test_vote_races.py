"""Concurrent votes from separate processes, on the real database of the test run.

Each process is a fresh Python with its own database connection, as separate web
processes would be. On SQLite the test database (in memory) is copied to a file first,
so the processes share it through SQLite's real file locking (WAL, IMMEDIATE), the way
a laptop install runs; on PostgreSQL they connect to the test database itself.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from paperfeed.community.models import Vote
from paperfeed.community.tests import factories
from paperfeed.papers.models import Paper

REPO = Path(__file__).resolve().parents[3]
PROCESSES = 3

_CHILD = """
import os, sys, time
from pathlib import Path
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "paperfeed.settings"
django.setup()
from django.contrib.auth import get_user_model
from paperfeed.community.votes import set_vote
from paperfeed.papers.models import Paper

paper_id, wishes, sync = int(sys.argv[1]), sys.argv[2].split(","), Path(sys.argv[3])
users = list(get_user_model().objects.filter(pk__in=[int(u) for u in sys.argv[4].split(",")]))
paper = Paper.objects.get(pk=paper_id)
for phase, wish in enumerate(wishes):
    (sync / f"ready-{phase}-{os.getpid()}").touch()
    while not (sync / f"go-{phase}").exists():
        time.sleep(0.002)
    for user in users:
        set_vote(user, paper, wish == "1")
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path)}
    env.pop("PAPERFEED_SECRET_KEY", None)
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        connection.ensure_connection()
        target = sqlite3.connect(tmp_path / "paperfeed.sqlite3")
        connection.connection.backup(target)
        target.close()
    else:
        s = connection.settings_dict
        env["DATABASE_URL"] = (f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:"
                               f"{s['PORT'] or 5432}/{s['NAME']}")
    return env


def _race(tmp_path: Path, paper: Paper, wishes: list[str], user_groups: list[list[int]]):
    """One process per group; each phase releases them all at once to cast ``wishes[i]``.

    Yields after each phase has finished in every process, so the caller can check.
    """
    sync = tmp_path / "sync"
    sync.mkdir()
    env = _environment(tmp_path)
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, str(paper.pk), ",".join(wishes),
                          str(sync), ",".join(map(str, group))], cwd=REPO, env=env)
        for group in user_groups
    ]
    try:
        for phase in range(len(wishes)):
            _wait(children, lambda p=phase: len(list(sync.glob(f"ready-{p}-*"))) == len(children))
            if phase:
                yield  # the previous phase is done everywhere
            (sync / f"go-{phase}").touch()
        for child in children:
            assert child.wait(timeout=60) == 0
        yield
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def _wait(children: list[subprocess.Popen], done) -> None:
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, "the voting processes are stuck"
        assert all(c.poll() is None for c in children), "a voting process died"
        time.sleep(0.01)


def _state(tmp_path: Path, paper: Paper) -> tuple[int, int]:
    """(vote rows, upvotes_local) as the processes left them."""
    if connection.vendor == "sqlite":
        db = sqlite3.connect(tmp_path / "paperfeed.sqlite3")
        rows = db.execute("SELECT COUNT(*) FROM community_vote WHERE paper_id = ?",
                          [paper.pk]).fetchone()[0]
        local = db.execute("SELECT upvotes_local FROM papers_paper WHERE id = ?",
                           [paper.pk]).fetchone()[0]
        db.close()
        return rows, local
    paper.refresh_from_db()
    return Vote.objects.filter(paper=paper).count(), paper.upvotes_local


@pytest.mark.django_db(transaction=True)
def test_a_double_click_from_several_processes_counts_one_vote(tmp_path):
    voter = factories.member()
    paper = factories.paper()
    phases = _race(tmp_path, paper, ["1", "0"], [[voter.pk]] * PROCESSES)
    next(phases)
    assert _state(tmp_path, paper) == (1, 1)
    next(phases)
    assert _state(tmp_path, paper) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_many_members_voting_at_once_lose_no_vote(tmp_path):
    voters = [factories.member().pk for _ in range(PROCESSES * 5)]
    paper = factories.paper()
    groups = [voters[i::PROCESSES] for i in range(PROCESSES)]
    next(_race(tmp_path, paper, ["1"], groups))
    assert _state(tmp_path, paper) == (len(voters), len(voters))
