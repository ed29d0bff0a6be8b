"""Thumbnail workers as separate processes: two at once, and SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter

import pytest
from django.utils import timezone

from paperfeed.community.tests.processes import REPO, _environment, query_one, race
from paperfeed.papers.tests.factories import paper
from paperfeed.sources.testing import Reply, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

_WORKER = """
from paperfeed.sources.http import PoliteClient
from paperfeed.thumbnails import worker

phase(0)
worker.run_once(client=PoliteClient(delay=0, max_retries=0), worker=sys.argv[2])
"""


def test_two_workers_at_once_never_fetch_the_same_paper(tmp_path, pdf_server, paper_pdf):
    papers = [paper(feed_date=timezone.now().date()) for _ in range(16)]
    for p in papers:
        # A slow server, so the two workers really overlap.
        pdf_server.add(f"/pdf/{p.arxiv_id}",
                       Reply(200, paper_pdf, content_type="application/pdf", pause=0.05))

    next(race(tmp_path, _WORKER, [["host-a"], ["host-b"]]))

    fetched = Counter(r.path for r in pdf_server.requests)
    assert fetched == {f"/pdf/{p.arxiv_id}": 1 for p in papers}
    done, workers = query_one(
        tmp_path, "SELECT COUNT(*), COUNT(DISTINCT claimed_by) FROM thumbnails_thumbnail "
                  "WHERE state = 'done' AND attempts = 1", [])
    assert (done, workers) == (16, 2)


def test_the_loop_stops_cleanly_on_sigterm(tmp_path, pdf_server, paper_pdf):
    p = paper(feed_date=timezone.now().date())
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type="application/pdf"))
    env = _environment(tmp_path, {"PAPERFEED_SOURCES_DELAY": "0"})
    worker = subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "thumbnails", "--loop"],
                              cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: pdf_server.count(f"/pdf/{p.arxiv_id}"), worker, "the worker never fetched")
    wait_for(lambda: query_one(tmp_path, "SELECT state FROM thumbnails_thumbnail", [])[0]
             == "done", worker, "the thumbnail was never stored")
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output
    assert "thumbnails: done 1" in output and "thumbnails worker stopped" in output
