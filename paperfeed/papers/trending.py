"""Trending, computed once: the ranking of papers/ranking.py kept in the database.

Ranking every candidate on every request cost ~250 ms of server CPU at 100k papers.
Instead ``refresh()`` scores all candidates of the window at one reference time and
writes them to ``TrendingRank`` (index on score); the page reads the top of that index.
``rescore(ids)`` brings single papers up to date at the same reference time when they
change (a vote, a curator's action, an ingest batch via ``papers_changed``), so upvotes
show at once, and ``refresh()`` moves the reference time on (worker: every
``PAPERFEED_TRENDING_REFRESH`` seconds; a bulk import: at its end). The ranking shown is
therefore exactly the documented formula at a reference time at most that old.

Pages never wait for a refresh (:func:`for_reader`): at 1M papers one takes about a
second, and every request that found it overdue used to run one in turn behind the lock.
A site without a worker (a laptop's ``paperfeed serve``) has it refreshed by a thread of
the web process once it is twice the interval old, while pages show the stored ranking.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from paperfeed.papers.models import Paper, PaperQuerySet, TrendingRank, TrendingSnapshot
from paperfeed.papers.ranking import trending_score, trending_window

log = logging.getLogger("paperfeed.trending")

_CHUNK = 900  # ids per IN list: under SQLite's old 999-variable limit
_BATCH = 5000


def snapshot() -> TrendingSnapshot | None:
    return TrendingSnapshot.objects.order_by("-pk").first()


def _scored(papers: PaperQuerySet, snap: TrendingSnapshot) -> list[TrendingRank]:
    rows = (papers.visible().filter(feed_date__gte=snap.first_day, feed_date__lte=snap.last_day)
            .values_list("pk", F("upvotes_imported") + F("upvotes_local"), "feed_date"))
    return [TrendingRank(paper_id=pk, feed_date=day,
                         score=trending_score(upvotes, day, snap.reference, snap.gravity))
            for pk, upvotes, day in rows.iterator(chunk_size=_BATCH)]


def refresh(now: dt.datetime | None = None,
            unless_younger: float | None = None) -> TrendingSnapshot | None:
    """Score every candidate at ``now`` (see ranking.trending_window) and store them all;
    with ``unless_younger`` (seconds), not when another process refreshed it that
    recently while this one waited for the lock."""
    now = now or timezone.now()
    gravity, days = settings.PAPERFEED["TRENDING_GRAVITY"], settings.PAPERFEED["TRENDING_DAYS"]
    with transaction.atomic():
        # One refresher at a time (PostgreSQL: the row lock; SQLite: the write lock).
        current = TrendingSnapshot.objects.select_for_update().order_by("-pk").first()
        if unless_younger is not None and not _due(current, now, unless_younger):
            return current
        window = trending_window(Paper.objects.all(), now, days)
        TrendingRank.objects.all().delete()
        if window is None:
            TrendingSnapshot.objects.all().delete()
            return None
        snap = current or TrendingSnapshot()
        snap.reference, snap.first_day, snap.last_day = window.reference, window.first_day, window.last_day
        snap.stale, snap.gravity, snap.days, snap.computed_at = window.stale, gravity, days, now
        snap.save()
        TrendingRank.objects.bulk_create(_scored(Paper.objects.all(), snap), batch_size=_BATCH)
    return snap


def _due(snap: TrendingSnapshot | None, now: dt.datetime, max_age: float) -> bool:
    if snap is None:
        return True
    if (snap.gravity != settings.PAPERFEED["TRENDING_GRAVITY"]
            or snap.days != settings.PAPERFEED["TRENDING_DAYS"]):
        return True
    return (now - snap.computed_at).total_seconds() >= max_age


def current(now: dt.datetime | None = None, max_age: float | None = None) -> TrendingSnapshot | None:
    """The stored ranking's snapshot, refreshed first when older than ``max_age`` seconds."""
    now = now or timezone.now()
    max_age = settings.PAPERFEED.get("TRENDING_REFRESH", 300) if max_age is None else max_age
    snap = snapshot()
    return refresh(now, unless_younger=max_age) if _due(snap, now, max_age) else snap


def refresh_if_due(now: dt.datetime | None = None, max_age: float | None = None) -> bool:
    """Refresh when the stored ranking is older than ``max_age`` seconds (or missing)."""
    now = now or timezone.now()
    max_age = settings.PAPERFEED.get("TRENDING_REFRESH", 300) if max_age is None else max_age
    if _due(snapshot(), now, max_age):
        refresh(now, unless_younger=max_age)
        return True
    return False


def _thread(work: Callable[[], None]) -> None:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()  # this thread's own connection

    threading.Thread(target=run, name="trending-refresh", daemon=True).start()


# How for_reader() runs an overdue refresh: a thread of its own (tests run it inline; a
# thread's writes would outlive a test's rolled-back transaction).
in_background: Callable[[Callable[[], None]], None] = _thread
_refreshing = threading.Lock()  # one background refresh per process at a time


def for_reader(now: dt.datetime | None = None) -> TrendingSnapshot | None:
    """The stored ranking's snapshot, for a page or an answer that must not wait: when
    it is more than twice ``PAPERFEED_TRENDING_REFRESH`` old (no worker keeps it fresh),
    a background thread refreshes it and this reader gets the stored one. Only a site
    with no ranking yet computes it first (one reader; the rest wait for its lock)."""
    now = now or timezone.now()
    max_age = 2 * settings.PAPERFEED.get("TRENDING_REFRESH", 300)
    snap = snapshot()
    if snap is None:
        return refresh(now, unless_younger=max_age)
    if _due(snap, now, max_age) and _refreshing.acquire(blocking=False):
        def work() -> None:
            try:
                refresh(unless_younger=max_age)
            except Exception:  # a reader's page must not depend on it: the next one retries
                log.exception("trending: the background refresh failed")
            finally:
                _refreshing.release()

        try:
            in_background(work)
        except Exception:
            _refreshing.release()
            raise
    return snap


def rescore(paper_ids: Iterable[int]) -> None:
    """Bring these papers' rows up to date at the stored reference time."""
    snap = snapshot()
    if snap is None:
        return  # nothing stored yet: the first refresh will include them
    ids = list(paper_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        rows = _scored(Paper.objects.filter(pk__in=chunk), snap)
        with transaction.atomic():
            # An upsert, not delete + insert: two votes on one paper at once must not
            # both insert its row.
            TrendingRank.objects.bulk_create(rows, update_conflicts=True, unique_fields=["paper"],
                                             update_fields=["score", "feed_date"])
            gone = set(chunk) - {row.paper_id for row in rows}
            TrendingRank.objects.filter(paper_id__in=gone).delete()


def ranked(papers: PaperQuerySet) -> PaperQuerySet:
    """``papers`` (already filtered, e.g. by category) in stored trending order."""
    return (papers.filter(trending_rank__isnull=False)
            .annotate(trending_score=F("trending_rank__score"))
            .order_by("-trending_rank__score", "-trending_rank__feed_date", "pk"))


def on_papers_changed(sender, paper_ids, **kwargs) -> None:
    rescore(paper_ids)


def on_papers_changed_since(sender, since, **kwargs) -> None:
    # A bulk import may have touched any of the window's papers: score them all again.
    refresh()
