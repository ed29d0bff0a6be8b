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


def test_the_loop_keeps_the_delay_across_rounds_and_stops_cleanly_on_sigterm(tmp_path,
                                                                             pdf_server,
                                                                             paper_pdf):
    papers = [paper(feed_date=timezone.now().date()) for _ in range(2)]
    for p in papers:
        pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type="application/pdf"))
    env = _environment(tmp_path, {"PAPERFEED_SOURCES_DELAY": "1.5"})
    # --limit 1: each paper is its own round.
    worker = subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "thumbnails", "--loop",
                               "--limit", "1"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: query_one(tmp_path, "SELECT COUNT(*) FROM thumbnails_thumbnail "
                                         "WHERE state = 'done'", [])[0] == 2,
             worker, "the thumbnails were never stored")
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output
    assert output.count("thumbnails: done 1") == 2 and "thumbnails worker stopped" in output
    first, second = sorted(r.at for r in pdf_server.requests)
    assert second - first >= 1.5  # the polite delay holds from one round to the next
