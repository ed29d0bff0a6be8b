"""``/papers/search``: the results page."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.papers.models import Paper
from paperfeed.search.forms import SearchForm
from paperfeed.search.highlight import excerpt, highlight
from paperfeed.search.models import SearchPaper
from paperfeed.search.query import parse_query
from paperfeed.search.service import search_parsed

# Sorting by upvotes re-orders this many of the most relevant results (votes change
# all day, so they live in the database, not in the index).
UPVOTE_POOL = 1000


class _Hits:
    """The engine's results as a sequence, so Django's Paginator asks for one page only."""

    def __init__(self, search, first_window: tuple[int, int]):
        self._search = search
        self._window = first_window
        self.results = search(first_window[0], first_window[1] - first_window[0])

    def count(self) -> int:
        return self.results.total

    def __len__(self) -> int:
        return self.results.total

    def __getitem__(self, window: slice):
        start, stop = window.start or 0, window.stop or 0
        if (start, stop) != self._window:  # e.g. a page past the end, clamped to the last
            self._window = (start, stop)
            self.results = self._search(start, stop - start)
        return [hit.paper_id for hit in self.results.hits]


def _arxiv_redirect(q: str):
    if not q or " " in q.strip():
        return None
    try:
        arxiv_id = parse_arxiv_id(q)
    except InvalidArxivId:
        return None
    paper = Paper.objects.filter(arxiv_id=arxiv_id.base).only("pk", "arxiv_id", "slug").first()
    return redirect(paper.get_absolute_url()) if paper else None


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def search(request):
    form = SearchForm(request.GET)
    form.is_valid()
    q = form.value("q")
    found = _arxiv_redirect(q)
    if found is not None:
        return found
    parsed = parse_query(q)
    mode = form.value("mode", "hybrid")
    sort = form.value("sort", "relevance")
    filters = {name: form.value(name) for name in ("category", "author", "date_from", "date_to")}
    filters = {k: v for k, v in filters.items() if v}
    page_size = settings.PAPERFEED["PAGE_SIZE"]
    message = None
    if sort == "upvotes":
        results = search_parsed(parsed, mode=mode, limit=UPVOTE_POOL, filters=filters)
        pool = [hit.paper_id for hit in results.hits]
        ordered = SearchPaper.objects.for_listing().filter(pk__in=pool).ranked()
        paginator = Paginator(ordered, page_size)
        page_obj = paginator.get_page(request.GET.get("page"))
        papers = list(page_obj.object_list)
    else:
        number = _page_number(request.GET.get("page"))
        hits = _Hits(lambda offset, limit: search_parsed(
            parsed, mode=mode, limit=limit, offset=offset,
            filters={**filters, "sort": sort}), ((number - 1) * page_size, number * page_size))
        paginator = Paginator(hits, page_size)
        page_obj = paginator.get_page(request.GET.get("page"))
        ids = list(page_obj.object_list)
        results = hits.results
        by_id = SearchPaper.objects.for_listing().in_bulk(ids)
        # Papers deleted since they were indexed are simply skipped.
        papers = [by_id[i] for i in ids if i in by_id]
    message = results.message if not papers or results.message else None
    terms = parsed.highlight_terms()
    for paper in papers:
        paper.title = highlight(paper.title, terms)
        paper.highlighted_snippet = excerpt(paper.abstract, terms)
    return render(request, "search/results.html", {
        "form": form, "q": q, "papers": papers, "page_obj": page_obj, "paginator": paginator,
        "is_paginated": paginator.num_pages > 1, "total": paginator.count, "message": message,
        "mode": results.mode if results.hits or sort == "upvotes" else mode, "sort": sort,
        "sorts": ("relevance", "newest", "upvotes"), "searched": bool(q or filters),
        "nav": "search", "chips_filter_here": True,
    })
