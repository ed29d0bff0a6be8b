"""The querysets API views read from (kept apart so feeds and exports share them)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from paperfeed.lib.arxiv_ids import InvalidArxivId, normalize_arxiv_id
from paperfeed.papers import trending as stored
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


def trending_in(queryset: PaperQuerySet, period: tuple[dt.date, dt.date] | None,
                start: int = 0, stop: int | None = None) -> list[Paper]:
    """Trending order, rows ``start:stop``; over a period, scored as seen at its end.

    The current trending list is the stored ranking (papers/trending.py: the documented
    formula, kept in the database), an indexed read at any corpus size; a past period
    is ranked for the request, as seen at its end (few candidates: its own days)."""
    if period is None:
        # The worker keeps the ranking fresh; without one, a background thread refreshes
        # it after twice the interval (as for the trending page).
        stored.for_reader()
        return list(stored.ranked(queryset)[start:stop])
    first, last = period
    end_of_period = dt.datetime.combine(last, dt.time.max, dt.UTC)
    ranked = trending(queryset, min(timezone.now(), end_of_period),
                      days=(last - first).days + 1)[0]
    # trending() ranks listing rows, which defer fields the API shows (ai_summary): load
    # the wanted slice again in one query rather than one query per deferred field.
    wanted = [p.pk for p in ranked[start:stop]]
    by_id = api_papers().in_bulk(wanted)
    return [by_id[pk] for pk in wanted if pk in by_id]


def latest_days(queryset: PaperQuerySet, count: int) -> list[dt.date]:
    return list(queryset.visible().in_feed().order_by("-feed_date")
                .values_list("feed_date", flat=True).distinct()[:count])
