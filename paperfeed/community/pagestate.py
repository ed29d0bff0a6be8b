"""A member's own state on a cached page (papers/pagecache.py): account links, vote marks.

The cached page was rendered for an anonymous reader; this adds, with one query for the
votes, what differs for the member, so a signed-in reader costs a fraction of a render.
"""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from paperfeed.community.votes import voted_ids
from paperfeed.papers.pagecache import splice


def _vote_form(paper_id: int) -> re.Pattern:
    action = re.escape(reverse("community:vote", args=[paper_id]))
    return re.compile(rf'<form method="post" action="{action}".*?</form>', re.S)


def _as_voted(form: str) -> str:
    return (form.replace('name="vote" value="1"', 'name="vote" value="0"')
            .replace('aria-pressed="false"', 'aria-pressed="true"')
            .replace('aria-label="Upvote:', 'aria-label="Remove your upvote:')
            .replace('<span class="vote-label">Upvote</span>',
                     '<span class="vote-label">Upvoted</span>'))


def personalise(request: HttpRequest, html: str) -> str:
    for region, template in (("account", "partials/header_account.html"),
                             ("account-short", "partials/header_account_short.html")):
        html = splice(html, region, render_to_string(template, request=request))
    prefix = re.escape(reverse("community:vote", args=[0])).replace("0", r"(\d+)", 1)
    ids = {int(pk) for pk in re.findall(rf'action="{prefix}"', html)}
    for paper_id in voted_ids(request.user, ids):
        html = _vote_form(paper_id).sub(lambda m: _as_voted(m.group(0)), html)
    return html
