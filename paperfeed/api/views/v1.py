"""paperfeed's own JSON API: richer filters, cursor pagination, search modes, tokens."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.http import HttpRequest
from django.views.decorators.csrf import csrf_exempt

from paperfeed.api import pagination, search
from paperfeed.api.http import (
    CATEGORY_PATTERN,
    ApiError,
    api_view,
    choice_param,
    date_param,
    error_response,
    int_param,
    json_response,
    period_param,
    text_param,
    token_param,
    with_cors,
)
from paperfeed.api.queries import api_papers, find_paper, in_period
from paperfeed.api.serializers import v1_paper
from paperfeed.papers.models import Category, PaperQuerySet

MAX_LIMIT = 100


def _category(request: HttpRequest) -> str:
    """A category code (cs.LG) or archive (cs): malformed is a 400, unknown a 404 (as the
    category feeds answer), so the OpenAPI pattern says exactly what is well formed."""
    code = request.GET.get("category", "")
    if not re.fullmatch(CATEGORY_PATTERN, code):
        raise ApiError(400, f"category must be an arXiv category like cs.LG or an archive "
                            f"like cs, not {code[:40]!r}.")
    if code and not Category.objects.filter(Q(code=code) | Q(archive=code)).exists():
        raise ApiError(404, f"There is no arXiv category {code!r}; see /api/v1/categories.")
    return code


def filtered_papers(request: HttpRequest) -> PaperQuerySet:
    """``/api/v1/papers`` filters, shared with the list exports."""
    papers = in_period(api_papers(), period_param(request))
    if code := _category(request):
        papers = papers.in_category(code)
    published_from = date_param(request, "published_from")
    published_to = date_param(request, "published_to")
    if published_from:
        papers = papers.filter(published_on__gte=published_from)
    if published_to:
        papers = papers.filter(published_on__lte=published_to)
    if submitter := text_param(request, "submitter"):
        papers = papers.filter(submitted_by__iexact=submitter)
    return papers


def paper_page(request: HttpRequest) -> tuple[list, str | None]:
    """One cursor page of ``filtered_papers``: the papers and the next cursor (or None)."""
    sort = choice_param(request, "sort", pagination.SORTS, "newest")
    limit = int_param(request, "limit", 20, minimum=1, maximum=MAX_LIMIT)
    return pagination.page(filtered_papers(request), sort, token_param(request, "cursor"), limit)


@api_view
def papers(request: HttpRequest):
    rows, next_cursor = paper_page(request)
    next_url = None
    if next_cursor:
        next_url = request.build_absolute_uri(
            "?" + urlencode({**request.GET.dict(), "cursor": next_cursor}))
    response = json_response({
        "results": [v1_paper(request, p) for p in rows],
        "next_cursor": next_cursor,
        "next": next_url,
    })
    if next_url:
        response["Link"] = f'<{next_url}>; rel="next"'
    return response


def _get_paper(paper_id: str, queryset: PaperQuerySet | None = None):
    found = find_paper(paper_id, queryset)
    if found is None:
        raise ApiError(404, f"Paper {paper_id!r} not found.")
    return found


@api_view
def paper(request: HttpRequest, paper_id: str):
    found = _get_paper(paper_id, api_papers().prefetch_related("versions"))
    response = json_response(v1_paper(request, found, detail=True))
    return response


@api_view
def related(request: HttpRequest, paper_id: str):
    limit = int_param(request, "limit", 10, minimum=1, maximum=50)
    found = _get_paper(paper_id)
    hits = [search.Hit(pk, 0.0) for pk in search.related(found, limit)]
    rows = search.papers_for(hits, api_papers())
    return json_response({"paper": found.public_id,
                          "results": [v1_paper(request, p) for p, _ in rows]})


def search_filters(request: HttpRequest) -> search.Filters:
    return search.Filters(category=_category(request), author=text_param(request, "author"),
                          date_from=date_param(request, "from"), date_to=date_param(request, "to"),
                          sort=choice_param(request, "sort", search.SORTS, "relevance"))


def run_search(request: HttpRequest, *, default_limit: int = 20):
    query = text_param(request, "q")
    if not query:
        raise ApiError(400, "q is required: the words to search for.")
    mode = choice_param(request, "mode", search.MODES, "hybrid")
    limit = int_param(request, "limit", default_limit, minimum=1, maximum=MAX_LIMIT)
    offset = int_param(request, "offset", 0, minimum=0, maximum=10_000)
    try:
        results = search.search(query, mode=mode, limit=limit, offset=offset,
                                filters=search_filters(request))
    except ValueError as exc:  # the engine's word for a query it cannot run
        raise ApiError(400, str(exc) or "This query cannot be searched.") from None
    return query, mode, limit, offset, results


@api_view
def search_view(request: HttpRequest):
    query, mode, limit, offset, results = run_search(request)
    rows = search.papers_for(results.hits, api_papers())
    return json_response({
        "query": query, "mode": mode, "total": results.total, "offset": offset, "limit": limit,
        "engine": results.engine, "message": results.message or None,
        "results": [{"score": score, "paper": v1_paper(request, p)} for p, score in rows],
    })


@api_view
def categories(request: HttpRequest):
    rows = (Category.objects.annotate(paper_count=Count("papers", filter=Q(papers__status="visible")))
            .order_by("code"))
    if text_param(request, "with_papers") in ("1", "true", "yes"):
        rows = rows.filter(paper_count__gt=0)
    return json_response([
        {"code": c.code, "name": c.name, "archive": c.archive, "active": c.active,
         "papers": c.paper_count} for c in rows
    ])


@api_view(cache="private, no-store", rate_limited=False)
def me(request: HttpRequest):
    if request.api_token is None:
        raise ApiError(401, "Send an API token as 'Authorization: Bearer <token>'.",
                       {"WWW-Authenticate": "Bearer"})
    user = request.api_token.user
    return json_response({"username": user.get_username(), "token": request.api_token.prefix,
                          "token_name": request.api_token.name})


@csrf_exempt
def not_found(request: HttpRequest, rest: str = ""):
    """404 whatever the method: no route here, so no method could be the wrong one."""
    return with_cors(error_response(404, f"There is no API route /api/{rest[:100]!r}; see /api/docs."))
