"""The thumbnail partial's tag: every thumbnail of a page in one query."""

from __future__ import annotations

from django import template

from paperfeed.papers.models import Paper
from paperfeed.papers.templatetags.papers import page_paper_ids
from paperfeed.thumbnails.models import Thumbnail

register = template.Library()


def _load(ids: set[int]) -> dict[int, Thumbnail]:
    rows = Thumbnail.objects.filter(paper_id__in=ids, state=Thumbnail.State.DONE).only(
        "paper_id", "digest", "width", "height")
    return {row.paper_id: row for row in rows}


@register.simple_tag(takes_context=True)
def paper_thumbnail(context, paper: Paper) -> Thumbnail | None:
    """``paper``'s rendered thumbnail, or None (the partial then shows a card).

    The first row of a page loads the thumbnails of every paper on the page and keeps
    them on the request, so a listing costs one query, not one per row.
    """
    holder = context.get("request") or context
    known, found = getattr(holder, "_thumbnails", None) or (set(), {})
    if paper.pk not in known:
        wanted = page_paper_ids(context) | {paper.pk}
        known, found = known | wanted, {**found, **_load(wanted)}
        holder._thumbnails = (known, found)
    return found.get(paper.pk)
