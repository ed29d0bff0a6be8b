"""paperfeed's own API: filters, cursor pagination, detail, related, search, categories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from paperfeed.api.tests.factories import make_paper, make_papers, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    days = [dt.date(2025, 11, d) for d in (17, 18, 19, 20)]
    records = []
    for i in range(24):
        records.append(record(
            arxiv_id=f"2511.{10000 + i}", title=f"Paper {i:02d} about graphs",
            abstract="An abstract.", authors=("Ada Lovelace", f"Author {i}"),
            categories=("cs.LG", "stat.ML") if i % 2 else ("cs.CL",),
            published_on=days[i % 4] - dt.timedelta(days=1), feed_date=days[i % 4],
            upvotes=(i * 7) % 11, submitted_by="alice" if i % 3 == 0 else "bob"))
    records.append(record(title="An undated note on graphs", abstract="No date at all."))
    return make_papers(*records)


def _walk(client, url: str) -> list[dict]:
    rows, pages = [], 0
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
        pages += 1
        assert pages < 50
    return rows


@pytest.mark.parametrize("sort", ["newest", "upvotes"])
def test_cursor_pagination_visits_every_paper_once_in_order(client, corpus, sort):
    rows = _walk(client, f"/api/v1/papers?limit=5&sort={sort}")
    assert len(rows) == len({r["id"] for r in rows}) == 25
    if sort == "upvotes":
        assert [r["upvotes"] for r in rows] == sorted((r["upvotes"] for r in rows), reverse=True)
    else:
        dated = [r["published_on"] for r in rows if r["published_on"]]
        assert dated == sorted(dated, reverse=True)
        assert rows[-1]["published_on"] is None  # undated papers come last


def test_a_paper_added_between_pages_does_not_shift_the_next_page(client, corpus):
    first = client.get("/api/v1/papers?limit=5&sort=upvotes").json()
    make_paper(title="A latecomer with many votes", upvotes=99, arxiv_id="2511.20000")
    rest = _walk(client, first["next"])
    ids = [r["id"] for r in first["results"] + rest]
    assert len(ids) == len(set(ids)) == 25


def test_filters_narrow_the_list(client, corpus):
    def ids(query):
        return {r["id"] for r in _walk(client, f"/api/v1/papers?limit=100&{query}")}

    assert len(ids("date=2025-11-18")) == 6
    assert len(ids("week=2025-W47")) == 24
    assert len(ids("month=2025-10")) == 0
    assert len(ids("category=cs.LG")) == 12
    assert ids("category=cs") == ids("category=cs.LG") | ids("category=cs.CL")
    assert len(ids("submitter=alice")) == 8
    assert len(ids("published_from=2025-11-18&published_to=2025-11-18")) == 6


def test_a_paper_has_everything_and_absolute_links(client, corpus):
    body = client.get("/api/v1/papers/2511.10003").json()
    assert body["id"] == body["arxiv_id"] == "2511.10003"
    assert body["authors"] == ["Ada Lovelace", "Author 3"]
    assert body["categories"] == ["cs.LG", "stat.ML"] and body["primary_category"] == "cs.LG"
    assert body["url"] == "http://127.0.0.1/papers/2511.10003"
    assert body["pdf_url"] == "https://arxiv.org/pdf/2511.10003"
    assert body["bibtex_url"] == "http://127.0.0.1/papers/2511.10003.bib"
    assert body["versions"] == []


def test_versioned_ids_and_arxiv_urls_find_the_paper(client, corpus):
    assert client.get("/api/v1/papers/2511.10003v2").json()["id"] == "2511.10003"
    assert client.get("/api/papers/arXiv:2511.10003").json()["id"] == "2511.10003"


def test_unknown_papers_and_routes_are_json_404s(client, corpus):
    for url in ("/api/v1/papers/2511.99999", "/api/v1/papers/nope/related", "/api/v1/nothing"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["status"] == 404 and response.json()["error"]


@pytest.mark.parametrize("query, message", [
    ("cursor=!!!", "cursor is not valid"),
    ("cursor=12.-3", "cursor is not valid"),
    # 10**30: a number no database column holds
    ("cursor=1000000000000000000000000000000.1&sort=upvotes", "cursor is not valid"),
    ("limit=1000", "limit must be between 1 and 100"),
    ("category=cs%20LG", "category must be an arXiv category like cs.LG"),
    ("published_from=yesterday", "published_from must be a date"),
    ("sort=random", "sort must be one of newest, upvotes"),
])
def test_bad_list_parameters_are_400s(client, corpus, query, message):
    response = client.get(f"/api/v1/papers?{query}")
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize("query, status", [
    ("month=9999-12", 200), ("week=9999-W52", 200), ("date=9999-12-31", 200),
    ("month=0001-01", 200), ("week=0001-W01", 200), ("date=0001-01-01", 200),
    ("week=2025-W53", 404), ("week=2020-W53", 200), ("week=0000-W01", 400), ("month=0000-01", 400),
    ("week=2025-W54", 400), ("month=2025-13", 400), ("date=2025-02-30", 400),
    ("date=2025-02-03&week=2025-W06", 400),
])
@pytest.mark.parametrize("route", ["/api/v1/papers", "/api/daily_papers", "/api/v1/papers.bib"])
def test_every_period_the_calendar_has_is_answered_and_one_it_lacks_is_a_404(
        client, corpus, route, query, status):
    response = client.get(f"{route}?{query}")
    assert response.status_code == status, response.content[:200]


def test_an_unknown_category_is_a_404_like_its_feed(client, corpus):
    response = client.get("/api/v1/papers?category=xx.YY")
    assert response.status_code == 404
    assert "There is no arXiv category 'xx.YY'" in response.json()["error"]


@pytest.mark.parametrize("cursor", ["0.1", "1.1", "3652059.5", "999999999999999999.999999999999999999"])
@pytest.mark.parametrize("sort", ["newest", "upvotes"])
def test_any_well_formed_cursor_is_a_position_not_an_error(client, corpus, cursor, sort):
    # The OpenAPI document promises every cursor matching its pattern is accepted.
    assert client.get(f"/api/v1/papers?cursor={cursor}&sort={sort}").status_code == 200


def test_related_papers_share_a_subject(client, corpus):
    body = client.get("/api/v1/papers/2511.10003/related?limit=5").json()
    assert body["paper"] == "2511.10003"
    assert 0 < len(body["results"]) <= 5
    assert all("2511.10003" != r["id"] for r in body["results"])


def test_search_finds_a_distinctive_title_word_first(client, corpus):
    make_paper(title="Wombatformer: burrowing attention", abstract="Graphs of wombats.",
               arxiv_id="2511.30000")
    body = client.get("/api/v1/search?q=wombatformer&mode=keyword").json()
    assert body["results"][0]["paper"]["id"] == "2511.30000"
    assert body["total"] >= 1 and body["query"] == "wombatformer"


def test_search_filters_by_category(client, corpus):
    body = client.get("/api/v1/search?q=graphs&category=cs.CL&limit=100").json()
    assert body["results"]
    assert all("cs.CL" in r["paper"]["categories"] for r in body["results"])


@pytest.mark.parametrize("query, status", [("", 400), ("q=x&mode=psychic", 400),
                                           ("q=x&offset=-3", 400), ("q=x&from=2025-99-01", 400)])
def test_bad_searches_are_400s(client, corpus, query, status):
    assert client.get(f"/api/v1/search?{query}").status_code == status


def test_categories_count_visible_papers(client, corpus):
    rows = {c["code"]: c for c in client.get("/api/v1/categories?with_papers=1").json()}
    assert rows["cs.LG"]["papers"] == 12 and rows["cs.CL"]["papers"] == 12
    assert all(c["papers"] > 0 for c in rows.values())


def test_list_endpoints_are_a_fixed_number_of_queries(client, corpus, django_assert_num_queries):
    # Papers + their categories; one more for the undated phase once dated papers run out
    # (cs.LG has 12 dated papers: a page of 20 reaches the undated phase, which is empty).
    for query, count in [("limit=3", 2), ("limit=20", 2), ("limit=100", 4),
                         ("limit=3&category=cs.LG", 3), ("limit=20&category=cs.LG", 4)]:
        with django_assert_num_queries(count):
            client.get(f"/api/v1/papers?{query}")
    with django_assert_num_queries(1):
        client.get("/api/v1/categories")

    # Search: the engine answers from its index (papers + categories), the database
    # fallback with two more (count, ids); either way the count does not grow with rows.
    counts = []
    for limit in (3, 20):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(f"/api/v1/search?q=graphs&limit={limit}").json()["results"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 4


def test_hidden_and_withdrawn_papers_are_not_served(client, corpus):
    from paperfeed.papers.models import Paper

    Paper.objects.filter(arxiv_id="2511.10003").update(status=Paper.Status.HIDDEN)
    assert client.get("/api/v1/papers/2511.10003").status_code == 404
    assert client.get("/api/papers/2511.10003").status_code == 404
    assert client.get("/papers/2511.10003.bib").status_code == 404
    listed = {r["id"] for r in _walk(client, "/api/v1/papers?limit=100")}
    assert "2511.10003" not in listed and len(listed) == 24
    daily = {i["paper"]["id"] for i in client.get("/api/daily_papers?limit=100").json()}
    assert "2511.10003" not in daily


def test_head_requests_answer_like_get(client, corpus):
    get = client.get("/api/v1/papers?limit=3")
    head = client.head("/api/v1/papers?limit=3")
    assert head.status_code == 200 and head["ETag"] == get["ETag"]


def test_search_filters_by_author_and_publication_day_and_sorts_by_newest(client, corpus):
    body = client.get("/api/v1/search?q=graphs&author=Author+5&limit=100").json()
    assert [r["paper"]["authors"][1] for r in body["results"]] == ["Author 5"]
    body = client.get("/api/v1/search?q=graphs&from=2025-11-18&to=2025-11-18&limit=100").json()
    assert len(body["results"]) == 6
    assert {r["paper"]["published_on"] for r in body["results"]} == {"2025-11-18"}
    newest = client.get("/api/v1/search?q=graphs&sort=newest&limit=100").json()["results"]
    days = [r["paper"]["published_on"] for r in newest if r["paper"]["published_on"]]
    assert days == sorted(days, reverse=True) and len(days) == 24
