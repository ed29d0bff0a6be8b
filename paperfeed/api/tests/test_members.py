"""Members act through the API with a token: votes, submissions, and their upvotes as lists.

Submissions run against the real recorded arXiv API answers, replayed on loopback.
"""

from __future__ import annotations

import datetime as dt
import socket

import bibtexparser
import pytest
import rispy
import time_machine
from django.conf import settings
from django.test import override_settings

from paperfeed.api.models import ApiToken
from paperfeed.api.tests.factories import make_paper
from paperfeed.community.models import Comment, Submission, Vote
from paperfeed.community.tests import factories
from paperfeed.lib.rates import parse_rate
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db
A_WEEK_AFTER_1605_08386 = "2016-06-02 10:00Z"  # its v1 appeared on 2016-05-26


def _token(user) -> str:
    return ApiToken.objects.issue(user, "script")[1]


def _auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def ada():
    return factories.member("ada")


@pytest.fixture
def paper():
    return make_paper(arxiv_id="2511.04242", title="Votes through the API", upvotes=5,
                      feed_date=dt.date(2025, 11, 20))


def _rates(**rates):
    return override_settings(COMMUNITY={**settings.COMMUNITY,
                                        **{k: parse_rate(v) for k, v in rates.items()}})


# -- votes ---------------------------------------------------------------------------------

def test_a_token_upvotes_once_and_takes_it_back(client, ada, paper):
    auth = _auth(_token(ada))
    url = "/api/v1/papers/2511.04242/vote"
    first = client.put(url, **auth)
    assert first.status_code == 200, first.content
    assert first.json() == {"paper": "2511.04242", "voted": True, "changed": True, "upvotes": 6}
    assert first["Cache-Control"] == "private, no-store"
    again = client.put(url, **auth).json()
    assert (again["changed"], again["upvotes"]) == (False, 6)  # idempotent, like the page
    assert client.get(url, **auth).json()["voted"] is True
    assert Vote.objects.filter(user=ada, paper=paper).count() == 1
    taken_back = client.delete(url, **auth).json()
    assert taken_back == {"paper": "2511.04242", "voted": False, "changed": True, "upvotes": 5}
    assert not Vote.objects.exists()
    assert Paper.objects.get(pk=paper.pk).upvotes_local == 0


def test_old_style_and_versioned_ids_find_the_paper_to_vote_on(client, ada):
    make_paper(arxiv_id="hep-th/9901001", title="Strings")
    auth = _auth(_token(ada))
    assert client.put("/api/v1/papers/hep-th/9901001/vote", **auth).json()["voted"] is True
    assert client.get("/api/v1/papers/hep-th/9901001v2/vote", **auth).json()["voted"] is True


def test_without_a_valid_token_nothing_is_voted_even_with_a_session_cookie(client, ada, paper):
    client.force_login(ada)  # a cookie alone must not act: these views skip CSRF
    url = "/api/v1/papers/2511.04242/vote"
    no_token = client.put(url)
    assert no_token.status_code == 401
    assert no_token["WWW-Authenticate"] == "Bearer"
    assert "apitoken" in no_token.json()["error"]
    assert client.put(url, HTTP_AUTHORIZATION="Bearer pf_not-a-token").status_code == 401
    assert not Vote.objects.exists()


def test_an_unconfirmed_member_cannot_vote_and_a_blocked_ones_token_stops_working(client, paper):
    unconfirmed = factories.member("newbie", verified=False)
    response = client.put("/api/v1/papers/2511.04242/vote", **_auth(_token(unconfirmed)))
    assert response.status_code == 403
    assert "confirm your e-mail" in response.json()["error"]
    blocked = factories.member("troll")
    token = _token(blocked)
    blocked.is_active = False
    blocked.save()
    assert client.put("/api/v1/papers/2511.04242/vote", **_auth(token)).status_code == 401
    assert not Vote.objects.exists()


def test_votes_through_the_api_share_the_members_rate_limit(client, ada):
    papers = [make_paper(arxiv_id=f"2511.0{n}000", title=f"Paper {n}") for n in range(1, 4)]
    auth = _auth(_token(ada))
    with _rates(RATE_VOTES="2/hour"):
        for p in papers[:2]:
            assert client.put(f"/api/v1/papers/{p.arxiv_id}/vote", **auth).status_code == 200
        limited = client.put(f"/api/v1/papers/{papers[2].arxiv_id}/vote", **auth)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert "this account" in limited.json()["error"]
    assert Vote.objects.count() == 2


def test_hidden_and_unknown_papers_cannot_be_voted_on(client, ada, paper):
    Paper.objects.filter(pk=paper.pk).update(status=Paper.Status.HIDDEN)
    auth = _auth(_token(ada))
    assert client.put("/api/v1/papers/2511.04242/vote", **auth).status_code == 404
    assert client.put("/api/v1/papers/2511.99999/vote", **auth).status_code == 404
    assert client.post("/api/v1/papers/2511.04242/vote", **auth).status_code == 405


def test_a_browser_may_ask_before_sending_a_token_cross_origin(client):
    response = client.options("/api/v1/papers/2511.04242/vote")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Methods"] == "GET, PUT, DELETE, OPTIONS"
    assert "Authorization" in response["Access-Control-Allow-Headers"]


# -- submissions ---------------------------------------------------------------------------

def _submit(client, token: str, body, content_type="application/json"):
    return client.post("/api/v1/submissions", body, content_type=content_type, **_auth(token))


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_a_submission_by_token_enters_todays_feed(arxiv_api_replay, client, ada):
    response = _submit(client, _token(ada), {"arxiv_id": "https://arxiv.org/abs/1605.08386",
                                             "comment": "Worth it: *fast*."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == "1605.08386"
    assert body["title"].startswith("Heat-bath random walks with Markov bases")
    assert body["feed_date"] == "2016-06-02"
    assert body["submitted_by"] == "ada"
    assert response["Location"] == "http://127.0.0.1/api/v1/papers/1605.08386"
    submission = Submission.objects.get()
    assert (submission.paper.arxiv_id, submission.user) == ("1605.08386", ada)
    assert Comment.objects.get().body_html == "<p>Worth it: <em>fast</em>.</p>"
    assert client.get("/api/v1/papers?date=2016-06-02").json()["results"][0]["id"] == "1605.08386"


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_refused_submissions_say_why_with_a_fitting_status(arxiv_api_replay, client, ada):
    token = _token(ada)
    assert _submit(client, token, {"arxiv_id": "1605.08386"}).status_code == 201
    again = _submit(client, _token(factories.member("bob")), {"arxiv_id": "1605.08386v1"})
    assert again.status_code == 409
    assert "already submitted by ada" in again.json()["error"]
    malformed = _submit(client, token, {"arxiv_id": "1605.8386<script>"})
    assert malformed.status_code == 400
    assert malformed.json()["error"].startswith("arxiv_id: ")
    assert _submit(client, token, {"comment": "no id"}).status_code == 400
    assert _submit(client, token, {"arxiv_id": 1605.08386}).status_code == 400  # not a string
    assert _submit(client, token, "{not json", content_type="text/plain").status_code == 400
    assert _submit(client, token, ["1605.08386"]).json()["error"] == (
        "The request body must be a JSON object.")
    assert Submission.objects.count() == 1


@time_machine.travel("2016-07-01 10:00Z", tick=False)
def test_a_paper_too_old_to_submit_is_unprocessable(arxiv_api_replay, client, ada):
    response = _submit(client, _token(ada), {"arxiv_id": "1605.08386"})
    assert response.status_code == 422
    assert "Only papers from the last" in response.json()["error"]
    assert not Paper.objects.exists()


def test_when_arxiv_cannot_be_reached_nothing_is_saved_and_the_client_may_retry(
        client, ada, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")
    response = _submit(client, _token(ada), {"arxiv_id": "2511.04242"})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert not Paper.objects.exists() and not Submission.objects.exists()


def test_the_daily_cap_is_a_429(client, ada, paper):
    with override_settings(COMMUNITY={**settings.COMMUNITY, "SUBMISSIONS_PER_DAY": 0}):
        response = _submit(client, _token(ada), {"arxiv_id": "2511.04242"})
    assert response.status_code == 429
    assert "most allowed per day (0)" in response.json()["error"]


def test_submissions_need_a_token_and_a_post(client, ada):
    assert client.post("/api/v1/submissions", {"arxiv_id": "2511.04242"},
                       content_type="application/json").status_code == 401
    response = client.get("/api/v1/submissions", **_auth(_token(ada)))
    assert response.status_code == 405 and response["Allow"] == "POST, OPTIONS"


# -- a member's upvotes as lists -----------------------------------------------------------

@pytest.fixture
def ada_upvoted(client, ada):
    """Ada upvotes four papers (the third is later taken down): latest vote first."""
    papers = [make_paper(arxiv_id=f"2511.0{n}111", title=f"Deep paper number {n}",
                         authors=("Grace Hopper",), published_on=dt.date(2025, 11, n),
                         categories=("cs.LG",)) for n in range(1, 5)]
    auth = _auth(_token(ada))
    for p in papers:
        assert client.put(f"/api/v1/papers/{p.arxiv_id}/vote", **auth).status_code == 200
    Paper.objects.filter(pk=papers[2].pk).update(status=Paper.Status.HIDDEN)
    return ["2511.04111", "2511.02111", "2511.01111"]


def test_a_members_upvotes_page_latest_first_without_hidden_papers(client, ada_upvoted):
    first = client.get("/api/v1/users/ada/upvotes?limit=2").json()
    assert [p["id"] for p in first["results"]] == ada_upvoted[:2]
    assert first["next"].startswith("http://127.0.0.1/api/v1/users/ada/upvotes?")
    rest = client.get(first["next"]).json()
    assert [p["id"] for p in rest["results"]] == ada_upvoted[2:]
    assert rest["next"] is None and rest["next_cursor"] is None
    assert client.get("/api/v1/users/nobody/upvotes").status_code == 404
    assert client.get("/api/v1/users/ada/upvotes?cursor=-1").status_code == 400


def test_a_members_upvotes_as_bibtex_and_ris(client, ada_upvoted):
    response = client.get("/api/v1/users/ada/upvotes.bib")
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert 'filename="ada-upvotes.bib"' in response["Content-Disposition"]
    library = bibtexparser.parse_string(response.content.decode())
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == ["hopper2025deep", "hopper2025deepb",
                                                "hopper2025deepc"]
    assert [e.fields_dict["eprint"].value for e in library.entries] == ada_upvoted
    assert {e.fields_dict["primaryClass"].value for e in library.entries} == {"cs.LG"}
    entries = rispy.loads(client.get("/api/v1/users/ada/upvotes.ris").content.decode())
    assert [e["urls"][0] for e in entries] == [f"https://arxiv.org/abs/{i}" for i in ada_upvoted]
    assert [e["title"] for e in entries] == [f"Deep paper number {n}" for n in (4, 2, 1)]


def test_the_profile_page_links_the_upvotes_exports(client, ada_upvoted):
    page = client.get("/users/ada/").content.decode()
    assert 'href="/api/v1/users/ada/upvotes.bib"' in page
    assert 'href="/api/v1/users/ada/upvotes.ris"' in page
