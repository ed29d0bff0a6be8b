"""Template tags for pages other apps own (the paper page's "Related papers")."""

from __future__ import annotations

import logging

from django import template

from paperfeed.papers.models import Paper
from paperfeed.search.service import related_to

register = template.Library()
log = logging.getLogger("paperfeed.search")


@register.simple_tag
def related_papers_for(paper: Paper, limit: int = 5) -> list[Paper]:
    """Papers near this one, nearest first (empty rather than an error page if search fails)."""
    try:
        ids = related_to(paper.pk, paper.title, limit)
    except Exception:
        log.exception("related papers failed for paper %s", paper.pk)
        return []
    found = Paper.objects.visible().only("id", "title", "arxiv_id", "slug", "published_on") \
        .in_bulk(ids)
    return [found[i] for i in ids if i in found]
