from __future__ import annotations

import datetime as dt
import io
import os
import signal
import threading

import pytest
import time_machine
from django.core.management import call_command

from paperfeed.papers.models import Paper
from paperfeed.sources import jobs
from paperfeed.sources.models import ScheduledJob
from paperfeed.sources.testing import Reply

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def sources(server, fixtures, monkeypatch):
    """The worker's real jobs, pointed at the replay server, with no delay."""
    monkeypatch.setenv("PAPERFEED_SOURCES_DELAY", "0")
    monkeypatch.setenv("PAPERFEED_SOURCES_MAX_RETRIES", "0")
    monkeypatch.setenv("PAPERFEED_ARXIV_RSS_URL", server.url + "/rss")
    monkeypatch.setenv("PAPERFEED_HF_API_URL", server.url + "/api")
    monkeypatch.setenv("PAPERFEED_RSS_CATEGORIES", "cs.AI,cs.CL")
    monkeypatch.setenv("PAPERFEED_RSS_TIME", "01:30")
    monkeypatch.setenv("PAPERFEED_HF_DAILY_TIME", "06:00,18:00")
    server.add_file("/rss/cs.AI", fixtures / "arxiv-rss/distill_arxiv_cs_ai.xml")
    server.add_file("/rss/cs.CL", fixtures / "arxiv-rss/distill_arxiv_cs_cl.xml")
    server.add_file("/api/daily_papers?date=2026-07-31&limit=100&p=0",
                    fixtures / "hf-api/personalnewsfeed_hf_daily_papers.json")
    server.add("/api/daily_papers?date=2026-07-30&limit=100&p=0", Reply(200, "[]"))
    return server


def test_slots_are_the_next_configured_time(monkeypatch):
    monkeypatch.setenv("PAPERFEED_HF_DAILY_TIME", "18:00,06:00")
    job = jobs.JOBS["hf-daily"]
    at = dt.datetime(2026, 7, 31, 5, 59, tzinfo=UTC)
    assert job.next_slot(at) == dt.datetime(2026, 7, 31, 6, 0, tzinfo=UTC)
    assert job.next_slot(at.replace(hour=6, minute=0)) == dt.datetime(2026, 7, 31, 18, 0, tzinfo=UTC)
    assert job.next_slot(at.replace(hour=20)) == dt.datetime(2026, 8, 1, 6, 0, tzinfo=UTC)


def test_jobs_run_at_their_times_and_not_before(sources):
    with time_machine.travel(dt.datetime(2026, 7, 31, 1, 0, tzinfo=UTC), tick=False):
        assert jobs.run_due() == []  # rows created, first due at their next slot
    with time_machine.travel(dt.datetime(2026, 7, 31, 1, 31, tzinfo=UTC), tick=False):
        [rss] = jobs.run_due()
    assert rss.name == "arxiv-rss" and rss.ok and rss.message.startswith("fetched 6 / new ")
    with time_machine.travel(dt.datetime(2026, 7, 31, 6, 5, tzinfo=UTC), tick=False):
        [hf] = jobs.run_due()
    assert hf.name == "hf-daily" and hf.message == "fetched 30 / new 30 / updated 0 / skipped 0"
    assert Paper.objects.for_day(dt.date(2026, 7, 31)).count() == 30
    row = ScheduledJob.objects.get(name="hf-daily")
    assert row.next_run_at == dt.datetime(2026, 7, 31, 18, 0, tzinfo=UTC) and row.last_ok


def test_n_workers_never_run_one_job_twice(sources):
    with time_machine.travel(dt.datetime(2026, 7, 31, 1, 0, tzinfo=UTC), tick=False):
        jobs.ensure_jobs(dt.datetime.now(UTC))
    now = dt.datetime(2026, 7, 31, 1, 31, tzinfo=UTC)
    # Three workers read the same due row, then race to claim it.
    seen = [ScheduledJob.objects.get(name="arxiv-rss") for _ in range(3)]
    wins = [jobs.claim(row, jobs.JOBS["arxiv-rss"], now) for row in seen]
    assert wins == [True, False, False]
    assert ScheduledJob.objects.get(name="arxiv-rss").runs == 1


def test_a_failed_run_is_recorded_and_retried_soon(sources):
    sources.add("/rss/cs.AI", Reply(503, "down"))
    with time_machine.travel(dt.datetime(2026, 7, 31, 1, 0, tzinfo=UTC), tick=False):
        jobs.run_due()
    with time_machine.travel(dt.datetime(2026, 7, 31, 1, 31, tzinfo=UTC), tick=False):
        [result] = jobs.run_due()
    assert not result.ok and "HTTP 503" in result.message
    row = ScheduledJob.objects.get(name="arxiv-rss")
    assert row.last_ok is False
    assert row.next_run_at == dt.datetime(2026, 7, 31, 2, 1, tzinfo=UTC)


# The command calls close_old_connections(), which (rightly) drops a connection left
# outside autocommit: these tests run outside a wrapping transaction, as a worker does.
# serialized_rollback puts back the categories that the data migration loaded.
_REAL_TRANSACTIONS = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@_REAL_TRANSACTIONS
def test_the_worker_command_runs_due_jobs_once(sources):
    ScheduledJob.objects.create(name="arxiv-rss", next_run_at=dt.datetime(2020, 1, 1, tzinfo=UTC))
    out = io.StringIO()
    call_command("worker", stdout=out)
    assert "arxiv-rss: ok — fetched 6" in out.getvalue()
    assert "worker: done" in out.getvalue()


@_REAL_TRANSACTIONS
def test_the_worker_loop_stops_on_sigterm(sources):
    before = signal.getsignal(signal.SIGTERM)
    out = io.StringIO()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        call_command("worker", "--loop", "--interval", "30", stdout=out)
    finally:
        timer.cancel()
    assert out.getvalue().strip().endswith("worker stopped")
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_the_worker_lists_its_jobs(sources):
    out = io.StringIO()
    call_command("worker", "--list", stdout=out)
    assert "arxiv-rss: next " in out.getvalue() and "never run" in out.getvalue()
