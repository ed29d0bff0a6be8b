"""A harvest killed for real (SIGKILL, between pages) resumes to the same database.

The other resume tests stop the harvester from inside; this one runs
``paperfeed ingest arxiv-oai`` as a separate process with its own SQLite database,
kills it with SIGKILL while it waits for page 3, runs the same command again, and
compares the result with an uninterrupted harvest into a second database.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from paperfeed.sources.testing import Reply, serve_oai_harvest, split_list_records, wait_for

FIRST = "verb=ListRecords&metadataPrefix=arXiv&set=cs"


def _paperfeed(data_dir: Path, *args: str, wait: bool = True):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PAPERFEED_DATA_DIR=str(data_dir), PAPERFEED_SOURCES_DELAY="0",
               PAPERFEED_LOG_LEVEL="WARNING")
    command = [sys.executable, "-m", "paperfeed.cli", *args]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _rows(data_dir: Path) -> tuple[list, int, str]:
    with sqlite3.connect(data_dir / "paperfeed.sqlite3") as db:
        papers = db.execute(
            "SELECT arxiv_id, title, abstract, authors, published_on, updated_on, "
            "primary_category_id FROM papers_paper ORDER BY arxiv_id").fetchall()
        sources = db.execute("SELECT COUNT(*) FROM papers_sourcerecord").fetchone()[0]
        token = db.execute("SELECT resumption_token FROM sources_harveststate").fetchone()[0]
    return papers, sources, token


def test_a_sigkilled_harvest_resumes_to_the_uninterrupted_result(server, fixtures, tmp_path):
    xml = (fixtures / "arxiv-oai/invenio_listrecords_arXiv_cs.xml").read_text()
    pages = split_list_records(xml, per_page=12)
    serve_oai_harvest(server, FIRST, pages)
    hang = threading.Event()
    # Page 3 hangs once (the process is killed while waiting), then answers.
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C25",
               Reply(200, pages[2], hold=hang), Reply(200, pages[2]))
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    base = ["ingest", "arxiv-oai", "--set", "cs", "--base-url", server.url + "/oai"]

    _paperfeed(killed, "migrate", "-v", "0")
    whole.mkdir()  # the same freshly migrated database, without a second migrate run
    shutil.copy(killed / "paperfeed.sqlite3", whole / "paperfeed.sqlite3")
    run = _paperfeed(killed, *base, wait=False)
    wait_for(lambda: any(r.query.get("resumptionToken") == ["6960524|25"]
                         for r in server.requests), run, "the harvest never asked for page 3")
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    hang.set()
    papers, sources, token = _rows(killed)
    assert (len(papers), sources, token) == (24, 24, "6960524|25")

    out = _paperfeed(killed, *base)
    assert "fetched 22 / new 22 / updated 0 / skipped 0 / deleted 0 / pages 2 (resumed)" in out

    _paperfeed(whole, *base)
    assert _rows(killed) == _rows(whole)
    assert _rows(whole)[1] == 46
