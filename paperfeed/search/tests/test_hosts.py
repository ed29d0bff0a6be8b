"""Several hosts sharing only PostgreSQL: each follows the change log into its own folder.

Host A is this test process (it ingests, embeds and hides papers, with its own index
folder). Host B is a ``paperfeed index follow --loop`` process with another data
directory; host C starts later from an empty one with ``paperfeed index follow``. B's
and C's results are read from their own folders.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper
from paperfeed.papers.records import PaperRecord
from paperfeed.search.follower import hosts_lag
from paperfeed.search.indexing import embed_pending
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.models import PaperEmbedding
from paperfeed.search.query import parse_query
from paperfeed.search.service import embed_texts, get_engine
from paperfeed.search.vectors import VectorIndex

# What docs/search.md promises: a change is searchable on another host within this
# many seconds (the follower hears NOTIFY at once; measured p99 in benchmarks.md).
BOUND = 30.0


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


class Host:
    def __init__(self, root: Path, name: str):
        self.name, self.data = name, root / name
        self.search = self.data / "search"
        self.log = root / f"{name}.log"
        self.env = {**os.environ, "DATABASE_URL": _database_url(),
                    "PAPERFEED_DATA_DIR": str(self.data), "PAPERFEED_SEARCH_DIR": str(self.search),
                    "PAPERFEED_SEARCH_HOST_NAME": name, "PAPERFEED_SEARCH_FOLLOW_BATCH": "100",
                    "DJANGO_SETTINGS_MODULE": "paperfeed.settings"}
        self.process: subprocess.Popen | None = None

    def run(self, *argv: str) -> str:
        done = subprocess.run([sys.executable, "-m", "paperfeed.cli", *argv], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def follow(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "paperfeed.cli", "index", "follow", "--loop",
                 "--interval", "0.5"], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    def found(self, words: str) -> list[int]:
        if not (self.search / "keyword" / "meta.json").exists():
            return []
        index = KeywordIndex(self.search / "keyword")
        return [pk for pk, _ in index.search(parse_query(words), limit=100)[0]]

    def documents(self) -> int:
        return KeywordIndex(self.search / "keyword").num_docs

    def position(self) -> list[int] | None:
        try:
            return json.loads((self.search / "follower.json").read_text())["position"]
        except (FileNotFoundError, ValueError):
            return None

    def until(self, ready, what: str, timeout: float = BOUND):
        deadline = time.monotonic() + timeout
        while not (result := ready()):
            if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                log = self.log.read_text() if self.log.exists() else ""
                raise AssertionError(f"host {self.name}: {what}\n{log}")
            time.sleep(0.05)
        return result


def _paper(arxiv_id: str, title: str, abstract: str = "") -> PaperRecord:
    return PaperRecord(source="arxiv-api", original_id=arxiv_id, arxiv_id=arxiv_id,
                       version=1, title=title, abstract=abstract)


@pytest.mark.django_db(transaction=True)
def test_two_hosts_share_only_the_database(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several hosts share PostgreSQL; an SQLite file belongs to one host")
    b, c = Host(tmp_path, "b"), Host(tmp_path, "c")
    b.follow()
    try:
        # Ingested and embedded on A ...
        apply_records([_paper("2501.00001", "Zebrafish fin regeneration atlas",
                              "Single-cell atlas of how zebrafish regrow amputated fins."),
                       _paper("2501.00002", "Graph neural networks for molecules",
                              "Message passing over atoms and bonds predicts properties.")])
        fish = Paper.objects.get(arxiv_id="2501.00001").pk
        molecules = Paper.objects.get(arxiv_id="2501.00002").pk
        # ... found on B by keyword, then by meaning, within the bound.
        assert b.until(lambda: b.found("zebrafish"), "keyword search") == [fish]
        embed_pending(get_engine())
        b.until(lambda: len(VectorIndex(b.search / "vectors")) == 2, "the vectors")
        query = embed_texts(["animals growing back lost limbs"])[0]
        assert VectorIndex(b.search / "vectors").search(query, 1)[0][0] == fish

        # kill -9 B in the middle of following 2,000 papers (20 entries, applied 100
        # papers at a time); restart it: nothing lost, nothing twice.
        b.stop()
        start = b.position()
        for n in range(20):
            apply_records([_paper(f"2502.{n:02d}{i:03d}", f"Bulk paper {n} {i}")
                           for i in range(100)])
        b.follow()
        b.until(lambda: b.position() != start, "moving on the bulk entries")
        b.kill()
        killed_at = b.documents()
        assert 2 < killed_at < 2002, "killed before or after the catch-up, not during it"
        b.follow()
        b.until(lambda: b.documents() == 2002, "catching up after the kill")
        assert KeywordIndex(b.search / "keyword").search(parse_query("bulk"))[1] == 2000

        # Hidden on A: leaves B's keyword and vector results.
        paper = Paper.objects.get(pk=fish)
        paper.status = Paper.Status.HIDDEN
        paper.save()
        b.until(lambda: not b.found("zebrafish"), "the hidden paper leaving")
        b.until(lambda: len(VectorIndex(b.search / "vectors")) == 1, "its vector leaving")

        # A third host from an empty folder: bootstraps (no model), then follows.
        assert "Applied the change log" in c.run("index", "follow")
        assert c.documents() == 2001 and not c.found("zebrafish")
        assert list(VectorIndex(c.search / "vectors").get([molecules, fish])) == [molecules]
        # Each reports its position once its round ends: B may be a moment behind.
        b.until(lambda: {lag.name: lag.behind for lag in hosts_lag()
                         if lag.name in ("b", "c")} == {"b": 0, "c": 0},
                "both hosts reporting no lag")
    finally:
        b.stop()


@pytest.mark.django_db(transaction=True)
def test_two_embedding_workers_on_two_hosts_split_the_work(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("workers on several hosts share PostgreSQL; SQLite has one writer")
    apply_records([_paper(f"2503.{n:05d}", f"Paper number {n} on topic {n % 7}",
                          f"An abstract about subject {n}.") for n in range(160)])
    hosts = [Host(tmp_path, "a"), Host(tmp_path, "b")]
    workers = [subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "embed", "--batch", "4"],
                                env=host.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True) for host in hosts]
    counts = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        counts.append(int(re.search(r"Embedded (\d+) papers", out)[1]))
    assert sum(counts) == 160, counts  # each paper once
    assert all(counts), counts  # both took part
    assert PaperEmbedding.objects.count() == 160
