"""The querysets API views read from (kept apart so feeds and exports share them)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from paperfeed.lib.arxiv_ids import InvalidArxivId, normalize_arxiv_id
from paperfeed.papers.models import Paper, PaperQuerySet
from paperfeed.papers.ranking import trending


def api_papers() -> PaperQuerySet:
    """Visible papers with everything a JSON row needs, in one query plus categories.

    Unlike ``for_listing`` nothing is deferred: the HF shape includes ``ai_summary``,
    and a deferred field would cost one query per row.
    """
    return Paper.objects.visible().with_upvotes().prefetch_related("categories")


def find_paper(public_id: str, queryset: PaperQuerySet | None = None) -> Paper | None:
    """By arXiv id or slug; versioned ids and arXiv URLs (2401.01234v2) find the paper too."""
    queryset = api_papers() if queryset is None else queryset
    try:
        return queryset.lookup(public_id)
    except Paper.DoesNotExist:
        pass
    try:
        canonical = normalize_arxiv_id(public_id)
    except InvalidArxivId:
        return None
    return queryset.filter(arxiv_id=canonical).first() if canonical != public_id else None


def in_period(queryset: PaperQuerySet, period: tuple[dt.date, dt.date] | None) -> PaperQuerySet:
    if period is None:
        return queryset
    return queryset.filter(feed_date__gte=period[0], feed_date__lte=period[1])


def trending_in(queryset: PaperQuerySet, period: tuple[dt.date, dt.date] | None) -> list[Paper]:
    """Trending order; over a given period it is scored as seen at the period's end."""
    if period is None:
        return trending(queryset, timezone.now())[0]
    start, end = period
    days = (end - start).days + 1
    end_of_period = dt.datetime.combine(end, dt.time.max, dt.UTC)
    return trending(queryset, min(timezone.now(), end_of_period), days=days)[0]


def latest_days(queryset: PaperQuerySet, count: int) -> list[dt.date]:
    return list(queryset.visible().in_feed().order_by("-feed_date")
                .values_list("feed_date", flat=True).distinct()[:count])
