"""Template tags for pages other apps own (the paper page's "Related papers")."""

from __future__ import annotations

import logging

from django import template
from django.core.cache import cache

from paperfeed.papers.models import Paper
from paperfeed.search.service import get_engine, related_to

register = template.Library()
log = logging.getLogger("paperfeed.search")

# Related papers are kept per paper until the search index changes (its version is part of
# the key), so this only bounds how long an unread entry stays in the cache.
RELATED_CACHE_SECONDS = 3600


@register.simple_tag
def related_papers_for(paper: Paper, limit: int = 5) -> list[Paper]:
    """Papers near this one, nearest first (empty rather than an error page if search fails)."""
    try:
        ids = _related_ids(paper, limit)
    except Exception:
        log.exception("related papers failed for paper %s", paper.pk)
        return []
    found = Paper.objects.visible().only("id", "title", "arxiv_id", "slug", "published_on") \
        .in_bulk(ids)
    return [found[i] for i in ids if i in found]


def _related_ids(paper: Paper, limit: int) -> list[int]:
    # A vote or a comment re-renders the page but cannot change which papers are related;
    # only a change to the index can, and that changes the key. Whether a related paper
    # is still visible is asked anew on every render.
    key = f"pf:related:{get_engine().version()}:{paper.pk}:{limit}"
    ids = cache.get(key)
    if ids is None:
        ids = related_to(paper.pk, paper.title, limit)
        cache.set(key, ids, RELATED_CACHE_SECONDS)
    return ids
