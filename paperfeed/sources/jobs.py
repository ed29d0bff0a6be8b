"""The worker's daily jobs: arXiv RSS for the configured categories and HF daily papers.

Each job has a row in :class:`~paperfeed.sources.models.ScheduledJob` whose
``next_run_at`` says when it is due. A worker *claims* a due run with one conditional
UPDATE (``WHERE next_run_at = <what I read>``), moving ``next_run_at`` to the next slot:
exactly one of N workers racing for it sees one row updated, so no run happens twice,
on SQLite or PostgreSQL, without locks held while the job runs. A failed run is tried
again after ``RETRY_AFTER`` (or at the next slot, if sooner).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from paperfeed import conf
from paperfeed.papers.merge import MergeStats
from paperfeed.sources import arxiv_rss, hf_daily
from paperfeed.sources.http import PoliteClient
from paperfeed.sources.importing import import_pages
from paperfeed.sources.models import ScheduledJob

log = logging.getLogger("paperfeed.sources")
RETRY_AFTER = dt.timedelta(minutes=30)


def _run_rss(now: dt.datetime) -> MergeStats:
    feeds = arxiv_rss.fetch(conf.value("PAPERFEED_RSS_CATEGORIES"), client=PoliteClient())
    return import_pages(feed.records for feed in feeds)


def _run_hf(now: dt.datetime) -> MergeStats:
    # Yesterday too: upvotes keep coming after a day's list is out.
    client, total = PoliteClient(), MergeStats()
    for day in (now.date() - dt.timedelta(days=1), now.date()):
        total.add(import_pages(hf_daily.fetch(("date", day.isoformat()), client=client)))
    return total


@dataclass(frozen=True)
class Job:
    name: str
    times_setting: str  # a list of "HH:MM" (UTC)
    run: Callable[[dt.datetime], MergeStats]

    def times(self) -> list[dt.time]:
        raw = conf.value(self.times_setting)
        try:
            return sorted(dt.time.fromisoformat(t) for t in raw)
        except ValueError as exc:
            raise ValueError(f"{self.times_setting}: {raw!r} is not a list of HH:MM") from exc

    def next_slot(self, after: dt.datetime) -> dt.datetime:
        """The first configured time strictly after ``after`` (UTC)."""
        after = after.astimezone(dt.UTC)
        for days in (0, 1):
            day = after.date() + dt.timedelta(days=days)
            for t in self.times():
                slot = dt.datetime.combine(day, t, tzinfo=dt.UTC)
                if slot > after:
                    return slot
        raise AssertionError("unreachable: every day has a slot")


JOBS: dict[str, Job] = {
    job.name: job for job in (
        Job("arxiv-rss", "PAPERFEED_RSS_TIME", _run_rss),
        Job("hf-daily", "PAPERFEED_HF_DAILY_TIME", _run_hf),
    )
}


def ensure_jobs(now: dt.datetime, jobs: dict[str, Job] = JOBS) -> None:
    """Create missing job rows, first due at their next slot."""
    for job in jobs.values():
        ScheduledJob.objects.get_or_create(name=job.name,
                                           defaults={"next_run_at": job.next_slot(now)})


def claim(row: ScheduledJob, job: Job, now: dt.datetime) -> bool:
    """Take this run of ``row`` if no other worker did; True when it is ours to run."""
    # A sort of optimistic lock: only the worker whose UPDATE still sees the
    # next_run_at it read moves it forward; everyone else updates zero rows.
    return ScheduledJob.objects.filter(
        pk=row.pk, next_run_at=row.next_run_at, next_run_at__lte=now
    ).update(next_run_at=job.next_slot(now), last_started_at=now, runs=F("runs") + 1) == 1


@dataclass(frozen=True)
class RunResult:
    name: str
    ok: bool
    message: str


def run_due(now: dt.datetime | None = None, jobs: dict[str, Job] = JOBS) -> list[RunResult]:
    """Run every due job this worker manages to claim; failures are recorded, not raised."""
    now = now or timezone.now()
    ensure_jobs(now, jobs)
    results = []
    for row in ScheduledJob.objects.filter(name__in=jobs, next_run_at__lte=now):
        job = jobs[row.name]
        if not claim(row, job, now):
            continue
        log.info("job %s: starting", job.name)
        try:
            stats = job.run(now)
        except Exception as exc:  # any failure: record it, retry soon, keep the worker alive
            message = f"{type(exc).__name__}: {exc}"
            log.error("job %s failed: %s", job.name, message)
            retry = min(job.next_slot(now), now + RETRY_AFTER)
            ScheduledJob.objects.filter(pk=row.pk).update(
                last_finished_at=timezone.now(), last_ok=False, last_message=message,
                next_run_at=retry)
            results.append(RunResult(job.name, False, message))
            continue
        message = stats.summary()
        log.info("job %s: %s", job.name, message)
        ScheduledJob.objects.filter(pk=row.pk).update(
            last_finished_at=timezone.now(), last_ok=True, last_message=message)
        results.append(RunResult(job.name, True, message))
    return results
