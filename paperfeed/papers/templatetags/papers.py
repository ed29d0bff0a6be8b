from __future__ import annotations

from django import template
from django.db.models import QuerySet

from paperfeed.lib.text import web_url
from paperfeed.papers.models import Paper

register = template.Library()
register.filter("web_url", web_url)

# Context variables that may hold the page's papers, most specific first.
_LIST_NAMES = ("vote_scope", "papers", "object_list")


def page_paper_ids(context) -> set[int]:
    """The ids of the papers the page lists, for partials that load data for all at once."""
    for name in _LIST_NAMES:
        papers = context.get(name)
        if isinstance(papers, QuerySet) and papers._result_cache is None:
            continue  # never run a listing's query from here
        if isinstance(papers, (list, tuple, QuerySet)):
            ids = {p.pk for p in papers if isinstance(p, Paper)}
            if ids:
                return ids
    return set()
