"""BibTeX and RIS downloads: one paper, a filtered list, a search."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from paperfeed.api import exports, search
from paperfeed.api.http import ApiError, api_view
from paperfeed.api.queries import api_papers, find_paper
from paperfeed.api.views.v1 import paper_page, run_search

_FORMATS = {
    "bibtex": (exports.bibtex, "application/x-bibtex; charset=utf-8", "bib"),
    "ris": (exports.ris, "application/x-research-info-systems; charset=utf-8", "ris"),
}


def download(request: HttpRequest, papers: list, fmt: str, name: str) -> HttpResponse:
    render, content_type, suffix = _FORMATS[fmt]
    body = render(papers, lambda p: request.build_absolute_uri(p.get_absolute_url()))
    response = HttpResponse(body, content_type=content_type)
    # inline: browsers show it, and reference managers' connectors still recognise the type.
    response["Content-Disposition"] = f'inline; filename="{name}.{suffix}"'
    return response


@api_view
def paper_export(request: HttpRequest, paper_id: str, fmt: str):
    found = find_paper(paper_id)
    if found is None:
        raise ApiError(404, f"Paper {paper_id!r} not found.")
    safe_name = found.public_id.replace("/", "_")
    return download(request, [found], fmt, safe_name)


@api_view
def list_export(request: HttpRequest, fmt: str):
    rows, _ = paper_page(request)
    return download(request, rows, fmt, "papers")


@api_view
def search_export(request: HttpRequest, fmt: str):
    _, _, _, _, results = run_search(request)
    rows = [p for p, _ in search.papers_for(results.hits, api_papers())]
    return download(request, rows, fmt, "search")
