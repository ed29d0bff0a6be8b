"""Which papers go into a subscriber's digest.

Everything goes through :func:`pick_papers`; a recommender replaces that one function.
For now the choice is plain database filters: the subscriber's own topics (keywords in the
title or abstract, arXiv categories or whole archives, followed authors) ranked by
upvotes, then the trending papers (``paperfeed.papers.ranking.trending``) to fill up to
``max_papers``. Only papers that entered the feed after the last digest this subscriber was
sent count, so a digest with nothing new is skipped rather than repeating itself.

A :class:`BatchContext` holds what subscribers of one batch share — the newest feed day,
trending lists and topic matches by (first day, topics) — so a batch of hundreds of
digests costs a handful of queries instead of a few per subscriber.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from paperfeed.digests.schedule import edition_days
from paperfeed.papers.models import Paper
from paperfeed.papers.ranking import trending

# Trending only looks this far back; a subscriber away longer starts from there.
_MAX_LOOKBACK_DAYS = 14


@dataclass
class Selection:
    papers: list[Paper]
    through_day: dt.date | None  # newest feed day the digest covers


@dataclass
class BatchContext:
    now: dt.datetime
    latest_day: dt.date | None = None
    _trending: dict[dt.date, list[Paper]] = field(default_factory=dict)
    _topics: dict[tuple, list[int]] = field(default_factory=dict)
    _papers: dict[int, Paper] = field(default_factory=dict)

    @classmethod
    def build(cls, now: dt.datetime) -> BatchContext:
        return cls(now=now, latest_day=Paper.objects.latest_feed_day())

    def trending_since(self, first_day: dt.date) -> list[Paper]:
        if first_day not in self._trending:
            papers, _ = trending(Paper.objects.filter(feed_date__gte=first_day), self.now)
            self._trending[first_day] = papers
            self._papers.update((p.pk, p) for p in papers)
        return self._trending[first_day]

    def topic_matches(self, first_day: dt.date, keywords: tuple, categories: tuple,
                      authors: tuple, limit: int) -> list[Paper]:
        key = (first_day, keywords, categories, authors, limit)
        if key not in self._topics:
            self._topics[key] = _topic_ids(first_day, self.latest_day, keywords, categories,
                                           authors, limit)
        ids = self._topics[key]
        missing = [pk for pk in ids if pk not in self._papers]
        if missing:
            self._papers.update((p.pk, p) for p in Paper.objects.for_listing().filter(pk__in=missing))
        return [self._papers[pk] for pk in ids if pk in self._papers]


def _topic_query(keywords: tuple, categories: tuple, authors: tuple) -> Q:
    query = Q()
    for word in keywords:
        query |= Q(title__icontains=word) | Q(abstract__icontains=word)
    if categories:
        query |= Q(categories__code__in=categories) | Q(categories__archive__in=categories)
    for name in authors:
        # The JSON text of the author list: a plain substring test that works on SQLite and
        # PostgreSQL alike; good enough for full names until authors get their own table.
        query |= Q(authors__icontains=name)
    return query


def _topic_ids(first_day: dt.date, last_day: dt.date, keywords: tuple, categories: tuple,
               authors: tuple, limit: int) -> list[int]:
    # The join on categories can repeat a paper; matching in a subquery avoids DISTINCT,
    # which PostgreSQL will not combine with ordering on an annotation.
    matching = Paper.objects.visible().filter(
        _topic_query(keywords, categories, authors),
        feed_date__gte=first_day, feed_date__lte=last_day,
    ).values("pk")
    return list(
        Paper.objects.filter(pk__in=matching).with_upvotes()
        .order_by("-upvotes", "-feed_date", "pk").values_list("pk", flat=True)[:limit]
    )


def first_new_day(seen_through: dt.date | None, edition: str, latest_day: dt.date) -> dt.date:
    """The first feed day that is new to a subscriber who has seen up to ``seen_through``."""
    oldest = latest_day - dt.timedelta(days=_MAX_LOOKBACK_DAYS - 1)
    if seen_through is None:
        first = latest_day - dt.timedelta(days=edition_days(edition) - 1)
    else:
        first = seen_through + dt.timedelta(days=1)
    return max(first, oldest)


def pick_papers(subscriber, edition: str, context: BatchContext) -> Selection:
    """The papers of ``subscriber``'s digest for ``edition``; empty when nothing is new."""
    latest = context.latest_day
    if latest is None or (subscriber.seen_through and subscriber.seen_through >= latest):
        return Selection([], subscriber.seen_through)
    first_day = first_new_day(subscriber.seen_through, edition, latest)
    limit = subscriber.max_papers
    chosen: list[Paper] = []
    if subscriber.has_topics:
        chosen = context.topic_matches(
            first_day, tuple(subscriber.keywords), tuple(subscriber.categories),
            tuple(subscriber.authors), limit,
        )
    if subscriber.include_trending and len(chosen) < limit:
        taken = {p.pk for p in chosen}
        for paper in context.trending_since(first_day):
            if len(chosen) >= limit:
                break
            if paper.pk not in taken:
                chosen.append(paper)
    return Selection(chosen[:limit], latest)
