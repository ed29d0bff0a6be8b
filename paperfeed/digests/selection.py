"""Which papers go into a subscriber's digest.

Everything goes through :func:`pick_papers`. A subscriber linked to an account gets the
recommender's stored picks for them first (``paperfeed recommend``); then the choice is
plain database filters: the subscriber's own topics (keywords in the
title or abstract, arXiv categories or whole archives, followed authors) ranked by
upvotes, then the trending papers (the stored ranking of ``paperfeed.papers.trending``:
the documented formula, computed once, not per batch) to fill up to ``max_papers``. Only papers that entered the feed after the last digest this subscriber was
sent count, so a digest with nothing new is skipped rather than repeating itself.

A :class:`BatchContext` holds what subscribers share — the newest feed day, trending lists
by first day, and the papers matching each topic term (one database filter per distinct
keyword, category or author) — so a batch of hundreds of digests costs a handful of
queries instead of a few per subscriber. A sender builds one per round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from paperfeed.digests.schedule import edition_days
from paperfeed.papers import trending
from paperfeed.papers.models import Paper

# Trending only looks this far back; a subscriber away longer starts from there.
_MAX_LOOKBACK_DAYS = 14
# Trending papers a digest may fill from (more than any subscriber's max_papers).
_MAX_TRENDING = 500


@dataclass
class Selection:
    papers: list[Paper]
    through_day: dt.date | None  # newest feed day the digest covers


@dataclass
class BatchContext:
    now: dt.datetime
    latest_day: dt.date | None = None
    _trending: dict[dt.date, list[Paper]] = field(default_factory=dict)
    _terms: dict[tuple, frozenset[int]] = field(default_factory=dict)
    _papers: dict[int, Paper] = field(default_factory=dict)
    blocks: dict[int, dict] = field(default_factory=dict)  # rendered papers, by pk

    @classmethod
    def build(cls, now: dt.datetime) -> BatchContext:
        return cls(now=now, latest_day=Paper.objects.latest_feed_day())

    def trending_since(self, first_day: dt.date) -> list[Paper]:
        if first_day not in self._trending:
            # The stored ranking (refreshed first if the worker has not for twice its
            # interval), limited to the days new to these subscribers.
            trending.current(self.now, max_age=2 * settings.PAPERFEED.get("TRENDING_REFRESH", 300))
            papers = list(trending.ranked(Paper.objects.for_listing().filter(
                feed_date__gte=first_day))[:_MAX_TRENDING])
            self._trending[first_day] = papers
            self._papers.update((p.pk, p) for p in papers)
        return self._trending[first_day]

    def _term(self, first_day: dt.date, kind: str, value: str) -> frozenset[int]:
        # One query per distinct topic term and first day, shared by every subscriber who
        # follows it: subscribers' topic lists overlap a lot, their combinations do not.
        key = (first_day, kind, value.casefold())
        if key not in self._terms:
            papers = list(Paper.objects.for_listing().filter(
                _TERM_QUERIES[kind](value), feed_date__gte=first_day, feed_date__lte=self.latest_day,
            ).distinct())
            self._papers.update((p.pk, p) for p in papers)
            self._terms[key] = frozenset(p.pk for p in papers)
        return self._terms[key]

    def recommended(self, user_id: int, first_day: dt.date, limit: int) -> list[Paper]:
        """The member's stored recommendations (``paperfeed recommend``) in the window, best first."""
        from paperfeed.recommend.models import Recommendation

        ids = list(Recommendation.objects.filter(
            user_id=user_id, paper__feed_date__gte=first_day, paper__feed_date__lte=self.latest_day,
        ).order_by("-score", "pk").values_list("paper_id", flat=True)[:limit])
        missing = [pk for pk in ids if pk not in self._papers]
        self._papers.update((p.pk, p) for p in Paper.objects.for_listing().filter(pk__in=missing))
        return [self._papers[pk] for pk in ids if pk in self._papers]

    def topic_matches(self, first_day: dt.date, keywords, categories, authors, limit: int) -> list[Paper]:
        """Papers matching any of the topics, most upvoted first."""
        ids: set[int] = set()
        for kind, values in (("keyword", keywords), ("category", categories), ("author", authors)):
            for value in values:
                ids |= self._term(first_day, kind, value)
        papers = [self._papers[pk] for pk in ids]
        papers.sort(key=lambda p: (-p.upvotes, -p.feed_date.toordinal(), p.pk))
        return papers[:limit]


_TERM_QUERIES = {
    "keyword": lambda word: Q(title__icontains=word) | Q(abstract__icontains=word),
    "category": lambda code: Q(categories__code=code) | Q(categories__archive=code),
    # The JSON text of the author list: a plain substring test that works on SQLite and
    # PostgreSQL alike; good enough for full names until authors get their own table.
    "author": lambda name: Q(authors__icontains=name),
}


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
    if subscriber.user_id:
        # A subscriber with an account gets what the recommender picked for them first.
        chosen = context.recommended(subscriber.user_id, first_day, limit)
    if subscriber.has_topics and len(chosen) < limit:
        taken = {p.pk for p in chosen}
        chosen += [p for p in context.topic_matches(first_day, subscriber.keywords, subscriber.categories,
                                                    subscriber.authors, limit) if p.pk not in taken]
    if subscriber.include_trending and len(chosen) < limit:
        taken = {p.pk for p in chosen}
        for paper in context.trending_since(first_day):
            if len(chosen) >= limit:
                break
            if paper.pk not in taken:
                chosen.append(paper)
    return Selection(chosen[:limit], latest)
