"""What members do through the API with a token: vote, submit, and list their upvotes.

The rules are the community app's, the same the web pages follow: a verified e-mail
address, per-account and per-IP limits, and the submission rules with their messages.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse

from paperfeed.api.http import (
    ApiError,
    api_action,
    api_view,
    int_param,
    json_body,
    json_response,
    token_param,
)
from paperfeed.api.queries import api_papers, find_paper
from paperfeed.api.serializers import v1_paper
from paperfeed.api.views.exports import download
from paperfeed.community import participation, submissions
from paperfeed.community.forms import SubmitForm
from paperfeed.community.models import Vote
from paperfeed.community.votes import set_vote, total_upvotes, voted_ids
from paperfeed.papers.models import Paper


def _refuse_if_not_allowed(request: HttpRequest, action: str) -> None:
    refused = participation.refusal(request, request.api_token.user, action)
    if refused is not None:
        headers = {} if refused.retry_after is None else {"Retry-After": str(refused.retry_after)}
        raise ApiError(refused.status, refused.message, headers)


@api_action("GET", "PUT", "DELETE")
def vote(request: HttpRequest, paper_id: str) -> HttpResponse:
    """GET: has the token's user upvoted the paper? PUT: upvote it. DELETE: take it back."""
    paper = find_paper(paper_id)
    if paper is None:
        raise ApiError(404, f"Paper {paper_id!r} not found.")
    user = request.api_token.user
    changed = False
    if request.method != "GET":
        _refuse_if_not_allowed(request, "votes")
        changed = set_vote(user, paper, up=request.method == "PUT")
    return json_response({"paper": paper.public_id, "voted": bool(voted_ids(user, [paper.pk])),
                          "changed": changed, "upvotes": total_upvotes(paper)})


@api_action("POST")
def submit(request: HttpRequest) -> HttpResponse:
    """Put a paper in today's feed by arXiv id, as the submit page does."""
    body = json_body(request)
    for name in ("arxiv_id", "comment"):
        if name in body and not isinstance(body[name], str):
            raise ApiError(400, f"{name} must be a string.")
    form = SubmitForm({name: body[name] for name in ("arxiv_id", "comment") if name in body})
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        where = "" if field == "__all__" else f"{field}: "
        raise ApiError(400, where + errors[0])
    _refuse_if_not_allowed(request, "submissions")
    try:
        paper = submissions.submit(request.api_token.user, form.cleaned_data["arxiv_id"],
                                   form.cleaned_data["comment"])
    except submissions.Refused as exc:
        headers = {"Retry-After": "60"} if exc.status == 503 else {}
        raise ApiError(exc.status, str(exc), headers) from None
    paper = api_papers().prefetch_related("versions").get(pk=paper.pk)
    response = json_response(v1_paper(request, paper, detail=True), status=201)
    response["Location"] = request.build_absolute_uri(f"/api/v1/papers/{paper.public_id}")
    return response


MAX_EXPORT = 1000


def _upvoted(request: HttpRequest, username: str, *, default: int, max_limit: int) -> tuple[list[Paper], str | None]:
    """A member's upvoted papers, latest vote first, and the cursor of the next page.

    The cursor is the id of the last vote shown: votes only ever get higher ids, so a
    page never shifts when the member votes meanwhile.
    """
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise ApiError(404, f"There is no member {username[:40]!r}.")
    limit = int_param(request, "limit", default, minimum=1, maximum=max_limit)
    cursor = token_param(request, "cursor")
    if cursor and not (cursor.isdigit() and len(cursor) <= 18):
        raise ApiError(400, "cursor is not valid: pass back the next_cursor of a previous page.")
    votes = Vote.objects.filter(user=member, paper__status=Paper.Status.VISIBLE).order_by("-pk")
    if cursor:
        votes = votes.filter(pk__lt=int(cursor))
    rows = list(votes.values_list("pk", "paper_id")[:limit + 1])
    papers = api_papers().in_bulk([paper_id for _, paper_id in rows[:limit]])
    page = [papers[paper_id] for _, paper_id in rows[:limit] if paper_id in papers]
    return page, (str(rows[limit - 1][0]) if len(rows) > limit else None)


@api_view
def upvotes(request: HttpRequest, username: str) -> HttpResponse:
    rows, next_cursor = _upvoted(request, username, default=20, max_limit=100)
    next_url = None
    if next_cursor:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_url = request.build_absolute_uri("?" + query.urlencode())
    response = json_response({"username": username, "next_cursor": next_cursor, "next": next_url,
                              "results": [v1_paper(request, p) for p in rows]})
    if next_url:
        response["Link"] = f'<{next_url}>; rel="next"'
    return response


@api_view
def upvotes_export(request: HttpRequest, username: str, fmt: str) -> HttpResponse:
    rows, _ = _upvoted(request, username, default=MAX_EXPORT, max_limit=MAX_EXPORT)
    return download(request, rows, fmt, f"{username}-upvotes")
