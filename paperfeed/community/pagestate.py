"""A member's own state on a cached page (papers/pagecache.py): account links, vote marks,
and on a paper page its vote, curator and discussion parts.

The cached page was rendered for an anonymous reader; this adds what differs for the
member — one query for their votes, on a listing and on a paper page alike, and a render
of the paper's parts only for a curator or when the paper has a discussion (the paper,
its submitter, the comments) — so a signed-in reader costs a fraction of a render (no
related papers, thumbnails, versions or sources).
"""

from __future__ import annotations

import re

from django.core.signals import setting_changed
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from paperfeed.community import moderation
from paperfeed.community.votes import voted_ids
from paperfeed.papers.memberpages import CSRF_MARK, member_fragment, region, splice
from paperfeed.papers.models import Paper

# How a shown comment thread starts (partials/paper_comments_community.html).
_THREAD = b'<ol class="thread">'


def _mark_voted(html: bytes, paper_ids: set[int]) -> bytes:
    """The vote forms of ``paper_ids`` (a listing's rows, a paper page's) turned to
    "voted", in one pass over the page."""
    if not paper_ids:
        return html
    actions = b"|".join(re.escape(reverse("community:vote", args=[pk]).encode())
                        for pk in paper_ids)
    return re.sub(rb'<form method="post" action="(?:' + actions + rb')".*?</form>',
                  lambda form: _as_voted(form.group()), html, flags=re.S)


def _as_voted(form: bytes) -> bytes:
    return (form.replace(b'name="vote" value="1"', b'name="vote" value="0"')
            .replace(b'aria-pressed="false"', b'aria-pressed="true"')
            .replace(b'aria-label="Upvote:', b'aria-label="Remove your upvote:')
            .replace(b'<span class="vote-label">Upvote</span>',
                     b'<span class="vote-label">Upvoted</span>'))


# A discussion with nothing shown yet, as a member who is no curator sees it (the comment
# form, its token left as CSRF_MARK): the same for every such member, so rendered once per
# paper and process. Bounded: cleared when full.
_EMPTY_DISCUSSIONS: dict[int, bytes] = {}
EMPTY_DISCUSSIONS = 4096


def _empty_discussion(paper_id: int, user) -> bytes:
    found = _EMPTY_DISCUSSIONS.get(paper_id)
    if found is None:
        # No query: the template asks the paper for its id and its count of shown
        # comments, 0 on the cached page (a comment retires it). No request, so no
        # context processors and no curator's view of hidden comments.
        paper = Paper(pk=paper_id, comments_local=0)
        found = render_to_string("partials/paper_comments_community.html",
                                 {"paper": paper, "user": user, "csrf_token": CSRF_MARK}).encode()
        if len(_EMPTY_DISCUSSIONS) >= EMPTY_DISCUSSIONS:
            _EMPTY_DISCUSSIONS.clear()
        _EMPTY_DISCUSSIONS[paper_id] = found
    return found


def _reset_discussions(setting: str, **kwargs) -> None:
    _EMPTY_DISCUSSIONS.clear()  # URLs and templates may have changed


setting_changed.connect(_reset_discussions, dispatch_uid="pagestate-discussions")


def _paper_page(request: HttpRequest, html: bytes, actions: bytes, prefix: bytes) -> bytes:
    """The paper page's member parts.

    For a member who is no curator, the vote part is the anonymous one (its mark is
    set with the listings'), and so is who submitted the paper; with no comments shown
    yet, the discussion is the comment form alone. Only a curator, or a discussion
    (replies, the member's own edit links), needs the paper and a render."""
    found = re.search(rb'action="' + prefix + rb'"', actions)
    if found is None:
        return html
    paper_id = int(found.group(1))
    curator = moderation.is_curator(request.user)
    if not curator and _THREAD not in (region(html, "paper-comments") or b""):
        return splice(html, "paper-comments", _empty_discussion(paper_id, request.user))
    paper = Paper.objects.visible().filter(pk=paper_id).first()
    if paper is None:  # hidden since it was cached: the next render says so
        return html
    context = {"paper": paper}
    parts = (("paper-actions", "partials/paper_actions_community.html"),) if curator else ()
    for name, template in (*parts, ("paper-comments", "partials/paper_comments_community.html")):
        html = splice(html, name, render_to_string(template, context, request=request).encode())
    return html


# The vote forms' papers of the pages this process served lately, by page: the same
# cached page (papers/pagecache.Entry.body, one object) is asked again and again, and
# scanning 130 KB for them took longer than the member's query.
_PAGE_IDS: dict[bytes, frozenset[int]] = {}
PAGE_IDS_ENTRIES = 256


def _vote_ids(html: bytes, prefix: bytes) -> frozenset[int]:
    found = _PAGE_IDS.get(html)
    if found is None:
        found = frozenset(int(pk) for pk in re.findall(rb'action="' + prefix + rb'"', html))
        if len(_PAGE_IDS) >= PAGE_IDS_ENTRIES:
            _PAGE_IDS.clear()
        _PAGE_IDS[html] = found
    return found


def personalise(request: HttpRequest, html: bytes) -> bytes:
    prefix = re.escape(reverse("community:vote", args=[0]).encode()).replace(b"0", rb"(\d+)", 1)
    ids = _vote_ids(html, prefix)
    for name, template in (("account", "partials/header_account.html"),
                           ("account-short", "partials/header_account_short.html")):
        html = splice(html, name, member_fragment(request, template))
    voted = voted_ids(request.user, ids)
    # has_upvoted (templatetags/community.py) reads this: no second query for the votes.
    request._community_votes = (ids, voted)
    actions = region(html, "paper-actions")  # a paper's page
    if actions is not None:
        html = _paper_page(request, html, actions, prefix)
    return _mark_voted(html, voted)
