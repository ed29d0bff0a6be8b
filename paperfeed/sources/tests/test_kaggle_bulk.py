"""The bulk path of ``ingest kaggle``: parsing processes, and search indexing at the end."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import tantivy
from django.core.management import call_command

from paperfeed.papers.models import Paper, PendingAnnouncement
from paperfeed.search.query import parse_query
from paperfeed.search.service import get_engine
from paperfeed.sources import kaggle
from paperfeed.sources.testing import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(fixtures) -> list[bytes]:
    path = fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
    return path.read_bytes().splitlines(keepends=True)


def _papers() -> list[tuple]:
    return list(Paper.objects.order_by("arxiv_id").values_list(
        "arxiv_id", "title", "abstract", "authors", "latest_version", "published_on",
        "primary_category_id"))


def _indexed() -> int:
    engine = get_engine()
    engine.keyword.refresh(force=True)
    return engine.keyword.num_docs


def test_parsing_processes_give_what_one_process_gives(lines, django_db_blocker):
    damaged = [*lines[:50], b'{"id": "0704.9999", "title": \n', *lines[50:120],
               b'{"id": "not-an-id", "title": "x"}\n', *lines[120:]]
    results, databases = [], []
    for workers in (0, 2):
        result = kaggle.ingest_stream(io.BytesIO(b"".join(damaged)), name="dump.json",
                                      batch_size=16, workers=workers)
        results.append((result.lines, result.stats.summary(), result.errors))
        databases.append(_papers())
        Paper.objects.all().delete()
    assert results[0] == results[1]
    assert results[0][0] == 202 and len(results[0][2]) == 2
    assert results[0][2][0].startswith("dump.json:51: invalid JSON")
    assert databases[0] == databases[1] and len(databases[0]) == 200


def test_nul_characters_are_dropped_not_fatal(lines):
    """PostgreSQL cannot store NUL in text: one such line used to fail its whole batch."""
    row = orjson.loads(lines[0])
    row.update(id="0704.9998", title="Nul\u0000 in the title", abstract="and\u0000 here",
               authors_parsed=[["Nul\u0000", "A.", ""]], comments="a \\u0000 stays text")
    for workers in (0, 1):
        result = kaggle.ingest_stream(io.BytesIO(b"".join([*lines[:10], orjson.dumps(row)])),
                                      batch_size=4, workers=workers)
        assert (result.stats.new, result.errors) == (11, [])
        paper = Paper.objects.get(arxiv_id="0704.9998")
        assert (paper.title, paper.abstract, paper.authors, paper.arxiv_comments) == (
            "Nul in the title", "and here", ["A. Nul"], "a \\u0000 stays text")
        Paper.objects.all().delete()


def test_the_papers_are_searchable_when_the_import_returns(lines):
    result = kaggle.ingest_stream(io.BytesIO(b"".join(lines)), batch_size=50)
    assert result.stats.new == 200 and result.seconds >= result.import_seconds > 0
    assert _indexed() == 200
    assert not PendingAnnouncement.objects.exists()
    hits = get_engine().keyword.search(parse_query("diphoton production"), limit=5)
    assert Paper.objects.get(arxiv_id="0704.0001").pk in [pk for pk, _ in hits[0]]


# Announced on commit, batch by batch; serialized_rollback puts back the categories
# that the data migration loaded, for the tests after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_indexing_while_importing_gives_the_same_index(lines):
    kaggle.ingest_stream(io.BytesIO(b"".join(lines)), batch_size=50, index_at_end=False)
    assert _indexed() == 200
    assert not PendingAnnouncement.objects.exists()


class _Broken(io.BytesIO):
    """A stream that fails after ``good`` lines with an error the import does not expect
    (a read error is reported and ends the import normally: test_ingest_command)."""

    def __init__(self, data: bytes, good: int):
        super().__init__(data)
        self.left = good

    def __next__(self) -> bytes:
        if self.left == 0:
            raise RuntimeError("the import dies")
        self.left -= 1
        return super().__next__()


def test_an_import_that_fails_half_way_is_caught_up_later(lines):
    with pytest.raises(RuntimeError):
        kaggle.ingest_stream(_Broken(b"".join(lines), 120), batch_size=50, workers=0)
    # The two whole batches are stored; the search index has not seen them yet, and
    # the database remembers that it must.
    assert Paper.objects.count() == 100
    assert _indexed() == 0
    assert PendingAnnouncement.objects.count() == 1
    call_command("reindex", "--pending", stdout=io.StringIO(), stderr=io.StringIO())
    assert _indexed() == 100
    assert not PendingAnnouncement.objects.exists()


def test_the_next_import_catches_up_on_a_failed_one(lines):
    with pytest.raises(RuntimeError):
        kaggle.ingest_stream(_Broken(b"".join(lines), 120), batch_size=50, workers=0)
    # Re-running skips the stored papers but still indexes them.
    result = kaggle.ingest_stream(io.BytesIO(b"".join(lines)), batch_size=50)
    assert (result.stats.new, result.stats.skipped) == (100, 100)
    assert _indexed() == 200
    assert not PendingAnnouncement.objects.exists()


def _paperfeed(data_dir: Path, *args: str, **popen) -> subprocess.Popen:
    # Its own SQLite database and search index, under data_dir.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "PAPERFEED_SEARCH_DIR")}
    env.update(PAPERFEED_DATA_DIR=str(data_dir), PAPERFEED_LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "paperfeed.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **popen)


def _open_for_writing(fifo: Path) -> int | None:
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no reader yet
        return None


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_sigkilled_import_is_completed_and_indexed_by_the_next_run(lines, tmp_path):
    data = tmp_path / "data"
    assert _paperfeed(data, "migrate", "-v", "0").wait(timeout=120) == 0
    fifo = tmp_path / "snapshot.json"
    os.mkfifo(fifo)
    run = _paperfeed(data, "ingest", "kaggle", str(fifo), "--batch-size", "50",
                     "--no-progress")
    # A pipe opens for writing once its reader has opened it.
    fd = wait_for(lambda: _open_for_writing(fifo), run, "the import never opened the pipe")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as writer:
        writer.write(b"".join(lines[:130]))
        writer.flush()
        database = data / "paperfeed.sqlite3"
        # Two batches committed, the third waits for more input.
        wait_for(lambda: _count(database, "papers_paper") >= 100, run,
                 "the import never stored two batches")
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM papers_pendingannouncement").fetchone()[0] == 1
    whole = tmp_path / "whole.json"
    whole.write_bytes(b"".join(lines))
    again = _paperfeed(data, "ingest", "kaggle", str(whole), "--no-progress")
    out = again.communicate(timeout=120)[0]
    assert again.returncode == 0, out
    assert "fetched 200 / new 100 / updated 0 / skipped 100" in out
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM papers_paper").fetchone()[0] == 200
        assert db.execute("SELECT COUNT(*) FROM papers_pendingannouncement").fetchone()[0] == 0
    index = tantivy.Index.open(str(data / "search/keyword"))
    index.reload()
    assert index.searcher().num_docs == 200


def test_planner_statistics_follow_a_growing_import(lines, monkeypatch):
    """ANALYZE after the first rows, then at each fourfold growth, and at the end."""
    from paperfeed.papers import bulk

    ran: list[int] = []
    statistics = bulk.PlannerStatistics()
    monkeypatch.setattr(bulk, "analyze_paper_tables", lambda: ran.append(statistics.written))
    for _ in range(50):
        statistics.add(2_000)  # a 100,000-paper import in batches of 2,000
    statistics.finish()
    assert ran == [10_000, 40_000, 100_000]


def test_an_import_leaves_postgresql_with_statistics_of_its_tables(lines):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite plans these lookups well without statistics")
    kaggle.ingest_stream(io.BytesIO(b"".join(lines)), batch_size=50)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
                       [["papers_paper", "papers_sourcerecord", "papers_paperversion"]])
        estimates = dict(cursor.fetchall())
    # Never analysed, a table's estimate is -1; ANALYZE counts its 200 rows (or more).
    assert estimates["papers_paper"] == estimates["papers_sourcerecord"] == 200
    assert estimates["papers_paperversion"] >= 200


def test_parsing_workers_die_on_sigterm_whatever_the_parent_installed():
    """Leaving the pool SIGTERMs its workers; a forked worker that kept the parent's
    graceful-stop handler (the worker and digest commands install one) lived on, and
    the import hung in the pool's join."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with kaggle._parsing_pool(1) as pool:
            in_worker = pool.apply(signal.getsignal, (signal.SIGTERM,))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert in_worker == signal.SIG_DFL
