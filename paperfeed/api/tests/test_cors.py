"""Every public read response is open to browser code on other sites, whatever its status.

Browsers drop a cross-origin response without ``Access-Control-Allow-Origin`` and hide
every header not listed in ``Access-Control-Expose-Headers``, so each kind of response
(JSON, exports, feeds, 304s, 4xx, 429) is checked for both.
"""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.api.tests.factories import make_paper

pytestmark = pytest.mark.django_db

ORIGIN = {"HTTP_ORIGIN": "https://reader.example"}
READABLE = {"link", "etag", "location", "retry-after", "x-ratelimit-limit",
            "x-ratelimit-remaining"}


@pytest.fixture
def paper():
    return make_paper(title="Open to every origin", arxiv_id="2511.00042", authors=("A. Author",),
                      categories=("cs.LG",), feed_date=dt.date(2025, 11, 20))


def _assert_open(response, url):
    assert response["Access-Control-Allow-Origin"] == "*", (url, response.status_code)
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert READABLE <= exposed, (url, exposed)


PUBLIC_READS = [
    "/api/daily_papers", "/api/papers/2511.00042", "/api/papers/search?q=open",
    "/api/v1/papers?limit=1", "/api/v1/papers/2511.00042", "/api/v1/categories",
    "/api/v1/papers.bib", "/api/v1/papers.ris", "/papers/2511.00042.bib", "/papers/2511.00042.ris",
    "/papers/2511.00042.md", "/api/openapi.json",
    "/feeds/daily.rss", "/feeds/daily.atom", "/feeds/trending.rss", "/feeds/category/cs.LG.atom",
    "/feeds/daily.atom?category=cs", "/feeds/search.rss?q=open",
]


@pytest.mark.parametrize("url", PUBLIC_READS)
def test_a_public_read_and_its_304_are_open_to_other_origins(client, paper, url):
    response = client.get(url, **ORIGIN)
    assert response.status_code == 200, url
    _assert_open(response, url)
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"], **ORIGIN)
    assert again.status_code == 304, url
    _assert_open(again, url)
    assert again["ETag"] == response["ETag"]


@pytest.mark.parametrize("url, status", [
    ("/api/daily_papers?date=2025-13-01", 400), ("/api/v1/papers?cursor=nonsense", 400),
    ("/api/papers/2601.99999", 404), ("/api/nowhere", 404), ("/api/v1/me", 401),
    ("/papers/2601.99999.bib", 404), ("/feeds/search.atom", 400),
    ("/feeds/category/xx.NOPE.rss", 404), ("/feeds/daily.rss?category=xx.NOPE", 404),
    ("/papers/for-you/feed/not-a-token.atom", 404),
])
def test_errors_are_open_to_other_origins_so_scripts_can_read_the_message(client, url, status):
    response = client.get(url, **ORIGIN)
    assert response.status_code == status, url
    _assert_open(response, url)


def test_a_429_is_readable_with_its_retry_after(client, paper, rate_limit):
    rate_limit(1)
    assert client.get("/api/v1/papers", **ORIGIN).status_code == 200
    refused = client.get("/api/v1/papers", **ORIGIN)
    assert refused.status_code == 429 and refused["Retry-After"]
    _assert_open(refused, "429")


def test_rate_limit_headers_survive_a_304(client, paper, rate_limit):
    rate_limit(10)
    first = client.get("/api/v1/papers")
    again = client.get("/api/v1/papers", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["X-RateLimit-Remaining"] == "8"


@pytest.mark.parametrize("url, method", [
    ("/api/v1/me", "GET"), ("/api/v1/papers/2511.00042/vote", "PUT"),
    ("/api/v1/submissions", "POST"), ("/api/v1/papers", "GET"), ("/feeds/daily.atom", "GET"),
])
def test_preflight_allows_the_authorization_header(client, paper, url, method):
    response = client.options(url, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization", **ORIGIN)
    assert response.status_code == 204, url
    _assert_open(response, url)
    assert method in response["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "if-none-match"} <= allowed
