"""The one place the api app talks to the search engine.

The ``search`` app provides ``paperfeed.search.service.search_papers`` and
``related_papers``. Until it is installed (or on a build without it) a plain database
match on title and abstract keeps every search route, feed and export working.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field

from django.db.models import Case, F, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast

from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.papers.models import Paper

MODES = ("hybrid", "keyword", "semantic")
# The API's mode names are the ones users read in the docs; the engine calls them by what
# they compute.
_ENGINE_MODES = {"hybrid": "hybrid", "keyword": "bm25", "semantic": "dense"}
SORTS = ("relevance", "newest")
_MAX_WORDS = 8


@dataclass(frozen=True)
class Filters:
    """The engine's filter contract: category (code or archive), author, and the
    publication day range; ``sort`` is relevance (default) or newest."""

    category: str = ""
    author: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"

    def as_dict(self) -> dict:
        given = {"category": self.category, "author": self.author,
                 "date_from": self.date_from, "date_to": self.date_to}
        if self.sort != "relevance":
            given["sort"] = self.sort
        return {key: value for key, value in given.items() if value}


@dataclass
class Hit:
    paper_id: int
    score: float


@dataclass
class Results:
    hits: list[Hit]
    total: int
    message: str = ""
    engine: str = "database"  # "search" when the search app answered
    extra: dict = field(default_factory=dict)


def _service():
    try:
        return importlib.import_module("paperfeed.search.service")
    except ModuleNotFoundError as exc:
        # Only a missing service module means "not built yet"; a broken import is a bug.
        if exc.name not in ("paperfeed.search.service", "paperfeed.search"):
            raise
        return None


def search(query: str, *, mode: str = "hybrid", limit: int = 20, offset: int = 0,
           filters: Filters | None = None) -> Results:
    filters = filters or Filters()
    by_id = _by_arxiv_id(query, filters)
    if by_id is not None:
        return Results([Hit(by_id, 1.0)] if offset == 0 else [], 1, engine="arxiv-id")
    service = _service()
    if service is not None and hasattr(service, "search_papers"):
        found = service.search_papers(query, mode=_ENGINE_MODES[mode], limit=limit,
                                      offset=offset, filters=filters.as_dict() or None)
        hits = [Hit(int(h.paper_id), float(h.score)) for h in found.hits]
        return Results(hits, int(found.total), getattr(found, "message", "") or "", "search")
    return _database_search(query, limit=limit, offset=offset, filters=filters)


def _by_arxiv_id(query: str, filters: Filters) -> int | None:
    """The paper a query names by arXiv id or URL (2607.28618, arXiv:2607.28618v2,
    https://arxiv.org/abs/...), as the site's search box opens it; None for other queries."""
    if not query.strip() or len(query.split()) != 1:
        return None
    try:
        arxiv_id = parse_arxiv_id(query)
    except InvalidArxivId:
        return None
    papers = filter_papers(Paper.objects.visible(), filters)
    return papers.filter(arxiv_id=arxiv_id.base).values_list("pk", flat=True).first()


def related(paper: Paper, limit: int = 10) -> list[int]:
    service = _service()
    if service is not None and hasattr(service, "related_papers"):
        return [int(pk) for pk in service.related_papers(paper.pk, limit=limit)]
    # Without the engine: the most upvoted papers sharing the primary category.
    codes = [paper.primary_category_id] if paper.primary_category_id else [
        c.code for c in paper.categories.all()]
    if not codes:
        return []
    return list(
        Paper.objects.visible().with_upvotes().filter(categories__code__in=codes)
        .exclude(pk=paper.pk).distinct().order_by("-upvotes", "-published_on", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def filter_papers(queryset, filters: Filters):
    if filters.category:
        queryset = queryset.in_category(filters.category)
    if filters.author:
        # Approximate (the JSON text of the list), good enough for the fallback.
        queryset = queryset.alias(author_text=Cast("authors", TextField())).filter(
            author_text__icontains=filters.author)
    if filters.date_from:
        queryset = queryset.filter(published_on__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(published_on__lte=filters.date_to)
    return queryset


def _database_search(query: str, *, limit: int, offset: int, filters: Filters) -> Results:
    words = query.split()[:_MAX_WORDS]
    if not words:
        return Results([], 0, "Type some words to search for.")
    papers = filter_papers(Paper.objects.visible().with_upvotes(), filters)
    score = Value(0)
    for word in words:
        papers = papers.filter(Q(title__icontains=word) | Q(abstract__icontains=word))
        # A word in the title counts twice one in the abstract: titles are what people recall.
        score = score + Case(When(title__icontains=word, then=Value(2)),
                             default=Value(1), output_field=IntegerField())
    papers = papers.annotate(match=score)
    if filters.sort == "newest":
        papers = papers.order_by(F("published_on").desc(nulls_last=True), "-match", "pk")
    else:
        papers = papers.order_by("-match", "-upvotes", "pk")
    total = papers.count()
    rows = papers.values_list("pk", "match")[offset:offset + limit]
    hits = [Hit(pk, float(match)) for pk, match in rows]
    return Results(hits, total, "Simple text match (the search engine is not installed).")


def papers_for(hits: list[Hit], queryset) -> list[tuple[Paper, float]]:
    """Load the papers of ``hits`` in one query, keeping the engine's order."""
    by_id = queryset.in_bulk([h.paper_id for h in hits])
    return [(by_id[h.paper_id], h.score) for h in hits if h.paper_id in by_id]
