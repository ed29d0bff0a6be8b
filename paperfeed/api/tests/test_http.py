"""Cross-cutting behaviour: rate limits, conditional GET, tokens, methods."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F

from paperfeed.api.models import ApiToken, RateBucket
from paperfeed.api.tests.factories import make_paper
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def paper():
    return make_paper(title="Conditional requests", arxiv_id="2511.00001",
                      feed_date=dt.date(2025, 11, 20))


@pytest.fixture
def token():
    user = get_user_model().objects.create_user("reader", password="x" * 12)
    return ApiToken.objects.issue(user, "laptop")[1]


def test_anonymous_clients_get_429_with_retry_after_past_the_limit(client, paper, rate_limit):
    rate_limit(3, window=60)
    with time_machine.travel(dt.datetime(2025, 11, 20, 12, 0, 15, tzinfo=dt.UTC), tick=False):
        statuses = [client.get("/api/daily_papers").status_code for _ in range(4)]
        refused = client.get("/api/v1/papers")
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"  # the window ends at 12:01:00
    assert "Too many requests" in refused.json()["error"]
    with time_machine.travel(dt.datetime(2025, 11, 20, 12, 1, 0, tzinfo=dt.UTC), tick=False):
        fresh = client.get("/api/daily_papers")
    assert fresh.status_code == 200 and fresh["X-RateLimit-Remaining"] == "2"
    # The finished window's counters were cleaned up when the new one began.
    assert RateBucket.objects.count() == 1


def test_the_count_is_shared_through_the_database_not_the_process(client, paper, rate_limit):
    rate_limit(2)
    client.get("/api/daily_papers")
    # Another web process sees the same row: simulate it by reading the table directly.
    assert RateBucket.objects.get().count == 1
    RateBucket.objects.update(count=2)  # as if a second process had served one request
    assert client.get("/api/daily_papers").status_code == 429


def test_clients_are_limited_separately(paper, rate_limit):
    from django.test import Client

    rate_limit(1)
    first = Client(SERVER_NAME="127.0.0.1", REMOTE_ADDR="10.0.0.1")
    second = Client(SERVER_NAME="127.0.0.1", REMOTE_ADDR="10.0.0.2")
    assert first.get("/api/daily_papers").status_code == 200
    assert first.get("/api/daily_papers").status_code == 429
    assert second.get("/api/daily_papers").status_code == 200


def test_token_holders_are_not_rate_limited(client, paper, token, rate_limit):
    rate_limit(1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert [client.get("/api/daily_papers", **auth).status_code for _ in range(3)] == [200] * 3


def test_a_matching_etag_gets_304(client, paper):
    first = client.get("/api/daily_papers")
    etag = first["ETag"]
    assert first["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/daily_papers", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    make_paper(title="A new paper changes the list", feed_date=dt.date(2025, 11, 20), upvotes=5)
    assert client.get("/api/daily_papers", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_vote_is_never_hidden_by_a_stale_304(client, paper):
    first = client.get("/api/papers/2511.00001")
    # Votes bump the count with an UPDATE that leaves updated_at alone (community app).
    Paper.objects.filter(pk=paper.pk).update(upvotes_local=F("upvotes_local") + 1)
    again = client.get("/api/papers/2511.00001",
                       HTTP_IF_MODIFIED_SINCE="Fri, 01 Jan 2100 00:00:00 GMT")
    assert again.status_code == 200
    assert again.json()["upvotes"] == first.json()["upvotes"] + 1


def test_feeds_revalidate_too(client, paper):
    first = client.get("/feeds/daily.rss")
    assert client.get("/feeds/daily.rss", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_token_identifies_its_user(client, token):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json() == {"username": "reader", "token": token[:10], "token_name": "laptop"}
    assert response["Cache-Control"] == "private, no-store"
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer pf_wrong", "Bearer nonsense", "Bearer "])
def test_bad_tokens_are_refused_clearly(client, header):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_inactive_users_token_stops_working(client, token):
    get_user_model().objects.update(is_active=False)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_only_the_hash_of_a_token_is_stored(token):
    stored = ApiToken.objects.get()
    assert token not in (stored.key_hash, stored.prefix)
    assert ApiToken.objects.authenticate(token) == stored


def test_the_apitoken_command_issues_lists_and_revokes(capsys):
    get_user_model().objects.create_user("cli", password="x" * 12)
    call_command("apitoken", "cli", "--name", "script")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.authenticate(raw).name == "script"
    call_command("apitoken", "cli", "--list")
    assert raw[:10] in capsys.readouterr().out
    call_command("apitoken", "cli", "--revoke", raw[:10])
    assert not ApiToken.objects.exists()


def test_writes_are_refused_with_405(client):
    response = client.post("/api/daily_papers")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["error"] == "POST is not supported here; use GET."


def test_browsers_may_call_the_api_from_other_sites_with_a_token(client, paper, token):
    preflight = client.options("/api/v1/me", HTTP_ORIGIN="https://example.org",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert preflight.status_code == 204
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    response = client.get("/api/v1/me", HTTP_ORIGIN="https://example.org",
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_nul_characters_are_a_400_not_a_database_error(client):
    assert client.get("/api/v1/papers/ab%00cd").status_code == 400
    assert client.get("/api/papers/search?q=a%00b").status_code == 400


def test_the_daily_list_comes_from_the_page_cache_until_a_vote_or_an_ingest(
        client, paper, rate_limit, django_assert_num_queries):
    from django.test import TestCase

    from paperfeed.community.votes import set_vote

    rate_limit(0)  # counting a request is a query of its own
    make_paper(title="A second paper", feed_date=dt.date(2025, 11, 20), upvotes=0)
    first = client.get("/api/daily_papers?limit=1")
    with django_assert_num_queries(0):
        again = client.get("/api/daily_papers?limit=1")
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again["Link"] == first["Link"] == (
        '<http://127.0.0.1/api/daily_papers?limit=1&p=1>; rel="next"')
    assert client.get("/api/daily_papers?limit=1",
                      HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    voter = get_user_model().objects.create_user("voter", password="x" * 12)
    with TestCase.captureOnCommitCallbacks(execute=True):
        set_vote(voter, paper, True)
    voted = client.get("/api/daily_papers?limit=1")
    assert voted.json()[0]["paper"]["upvotes"] == first.json()[0]["paper"]["upvotes"] + 1
    assert voted["ETag"] != first["ETag"]
    make_paper(title="Ingested later", feed_date=dt.date(2025, 11, 21), upvotes=1)
    assert client.get("/api/daily_papers?limit=1").json()[0]["title"] == "Ingested later"
    # Bad parameters are answered, never cached.
    assert client.get("/api/daily_papers?limit=0").status_code == 400
    assert client.get("/api/daily_papers?limit=0").status_code == 400
