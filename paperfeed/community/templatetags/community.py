"""Template tags for the community partials that other apps' pages include."""

from __future__ import annotations

from django import template

from paperfeed.community import comments, moderation
from paperfeed.community.models import Submission
from paperfeed.community.votes import voted_ids
from paperfeed.papers.models import Paper, Source
from paperfeed.papers.templatetags.papers import page_paper_ids

register = template.Library()

@register.simple_tag(takes_context=True)
def has_upvoted(context, paper: Paper) -> bool:
    """Whether the signed-in member upvoted ``paper``.

    The first row of a page loads the member's votes for every paper on the page in one
    query and keeps them on the request, so a listing costs one extra query, not one per row.
    """
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    cached = getattr(request, "_community_votes", None)
    if cached is None or paper.pk not in cached[0]:
        wanted = page_paper_ids(context) | {paper.pk}
        known, voted = cached or (set(), set())
        cached = (known | wanted, voted | voted_ids(request.user, wanted))
        request._community_votes = cached
    return paper.pk in cached[1]


@register.simple_tag(takes_context=True)
def comment_thread(context, paper: Paper) -> list[comments.Node]:
    """The paper's comments; no query at all when none can be shown to this visitor.

    ``comments_local`` counts the shown comments, so at 0 there is only hidden or deleted
    ones; only curators are shown those (as tombstones with the reason).
    """
    if not paper.comments_local:
        request = context.get("request")
        if request is None or not moderation.is_curator(request.user):
            return []
    return comments.thread(paper)


@register.simple_tag
def paper_submission(paper: Paper) -> Submission | None:
    """Who submitted the paper, if a member did; free for the rest (the paper page
    prefetches source records, and a submission always leaves one)."""
    records = getattr(paper, "_prefetched_objects_cache", {}).get("source_records")
    if records is not None and not any(r.source == Source.SUBMISSION for r in records):
        return None
    return Submission.objects.filter(paper=paper).select_related("user").first()


@register.filter
def is_curator(user) -> bool:
    return moderation.is_curator(user)
