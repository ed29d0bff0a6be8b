"""Hugging Face-compatible routes: existing HF clients work unchanged against paperfeed."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from paperfeed.api import search
from paperfeed.api.http import (
    ApiError,
    api_view,
    body_etag,
    choice_param,
    int_param,
    json_response,
    period_param,
    text_param,
)
from paperfeed.api.queries import api_papers, find_paper, in_period, trending_in
from paperfeed.api.serializers import hf_daily_item, hf_paper
from paperfeed.lib.text import abstract_paragraphs
from paperfeed.papers.pagecache import cached_response

MAX_LIMIT = 100


@api_view
def daily_papers(request: HttpRequest):
    # The same list for every caller: kept in the page cache, retired by the same events
    # (papers/pagecache.py). The parameters are checked first: errors are never cached.
    if settings.PAGE_CACHE_SECONDS > 0:
        return cached_response(request, lambda: _daily_papers(request), etag=body_etag,
                               keep=("Link",))
    return _daily_papers(request)


def _daily_papers(request: HttpRequest):
    page = int_param(request, "p", 0, minimum=0, maximum=100_000)
    limit = int_param(request, "limit", 50, minimum=1, maximum=MAX_LIMIT)
    sort = choice_param(request, "sort", ("publishedAt", "trending"), "publishedAt")
    period = period_param(request)
    papers = in_period(api_papers().in_feed(), period)
    if submitter := text_param(request, "submitter"):
        papers = papers.filter(submitted_by__iexact=submitter)
    start = page * limit
    if sort == "trending":
        window = trending_in(papers, period, start, start + limit + 1)
    else:
        # Newest day first and, within a day, the order of the daily page.
        ordered = papers.order_by("-feed_date", "-upvotes", "-featured", "title", "pk")
        window = list(ordered[start:start + limit + 1])
    response = json_response([hf_daily_item(p) for p in window[:limit]])
    if len(window) > limit:
        query = {**request.GET.dict(), "p": str(page + 1)}
        response["Link"] = f'<{request.build_absolute_uri("?" + urlencode(query))}>; rel="next"'
    return response


@api_view
def paper(request: HttpRequest, paper_id: str):
    found = find_paper(paper_id)
    if found is None:
        raise ApiError(404, f"Paper {paper_id!r} not found.")
    response = json_response(hf_paper(found))
    return response


@api_view
def search_papers(request: HttpRequest):
    query = text_param(request, "q")
    limit = int_param(request, "limit", 50, minimum=1, maximum=MAX_LIMIT)
    if not query:
        return json_response([])
    results = search.search(query, limit=limit)
    rows = search.papers_for(results.hits, api_papers())
    return json_response([hf_daily_item(p) for p, _ in rows])


@api_view
def paper_markdown(request: HttpRequest, paper_id: str):
    """``/papers/{id}.md``: the paper page as Markdown, what ``HfApi.read_paper`` reads."""
    found = find_paper(paper_id)
    if found is None:
        raise ApiError(404, f"Paper {paper_id!r} not found.")
    lines = [f"# {found.title}", ""]
    if found.authors:
        lines += ["Authors: " + ", ".join(found.authors), ""]
    if found.published_on:
        lines += [f"Published: {found.published_on.isoformat()}", ""]
    paragraphs = abstract_paragraphs(found.abstract) or ["No abstract is known for this paper."]
    lines += ["## Abstract", ""] + [line for text in paragraphs for line in (text, "")]
    links = [("arXiv", found.arxiv_url), ("PDF", found.best_pdf_url), ("Code", found.code_url),
             ("Project page", found.project_url),
             ("Page", request.build_absolute_uri(found.get_absolute_url()))]
    lines += ["## Links", ""] + [f"- {name}: <{url}>" for name, url in links if url]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/markdown; charset=utf-8")
    return response
