"""Trending: upvotes with time decay, computed the same way everywhere.

    score = upvotes / (age_hours + 2) ** gravity

``age_hours`` counts from the start (00:00 UTC) of the day the paper entered the feed to
the reference time, so every paper of one day ages together, and a paper is never
younger than 0 hours; the ``+ 2`` keeps brand-new papers from dividing by almost zero.
``gravity`` (``PAPERFEED_TRENDING_GRAVITY``, default 1.5) sets how quickly old papers
sink: at 1.5 a two-day-old paper needs about 2.7x the upvotes of a one-day-old one
to rank level with it, and a five-day-old one about 1.4x those of a four-day-old one.

Candidates are the visible papers that entered the feed in the last
``PAPERFEED_TRENDING_DAYS`` days (default 14). The reference time is now, unless the
newest feed day is older than that window (an archive that stopped being fed, like the
demo corpus): then it is the end of the newest feed day, so the page shows what was
trending when the feed stopped rather than nothing. Ties go to the more recent paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from paperfeed.papers.models import Paper, PaperQuerySet

# Enough candidates for any real day mix; trimming in SQL keeps the Python part small.
_MAX_CANDIDATES = 2000


@dataclass(frozen=True)
class TrendingWindow:
    reference: dt.datetime
    first_day: dt.date
    last_day: dt.date
    stale: bool  # True when the window was moved back to the newest feed day


def trending_window(queryset: PaperQuerySet, now: dt.datetime, days: int | None = None) -> TrendingWindow | None:
    days = days or settings.PAPERFEED["TRENDING_DAYS"]
    latest = queryset.latest_feed_day()
    if latest is None:
        return None
    today = now.astimezone(dt.UTC).date()
    stale = latest < today - dt.timedelta(days=days - 1)
    if stale:
        reference = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(), dt.UTC)
    else:
        reference = now
    last_day = reference.astimezone(dt.UTC).date() if not stale else latest
    return TrendingWindow(reference, last_day - dt.timedelta(days=days - 1), last_day, stale)


def trending_score(upvotes: int, feed_date: dt.date, reference: dt.datetime, gravity: float) -> float:
    start = dt.datetime.combine(feed_date, dt.time(), dt.UTC)
    age_hours = max((reference - start).total_seconds() / 3600, 0.0)
    return upvotes / (age_hours + 2) ** gravity


def trending(
    queryset: PaperQuerySet, now: dt.datetime, *, days: int | None = None,
    gravity: float | None = None,
) -> tuple[list[Paper], TrendingWindow | None]:
    """Papers ranked by trending score, best first, and the window they came from."""
    gravity = settings.PAPERFEED["TRENDING_GRAVITY"] if gravity is None else gravity
    window = trending_window(queryset, now, days)
    if window is None:
        return [], None
    candidates = list(
        queryset.for_listing()
        .filter(feed_date__gte=window.first_day, feed_date__lte=window.last_day)
        .order_by("-upvotes", "-feed_date", "pk")[:_MAX_CANDIDATES]
    )
    for paper in candidates:
        paper.trending_score = trending_score(paper.upvotes, paper.feed_date, window.reference, gravity)
    candidates.sort(key=lambda p: (-p.trending_score, -p.feed_date.toordinal(), p.pk))
    return candidates, window
