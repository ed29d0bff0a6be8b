"""Hugging Face compatibility: the official client reads paperfeed, and the shapes match HF's."""

from __future__ import annotations

import copy
import datetime as dt

import huggingface_hub.constants
import pytest
from huggingface_hub import HfApi
from huggingface_hub.hf_api import PaperInfo
from huggingface_hub.utils._http import close_session

from paperfeed.api.tests.factories import hf_fixture_records, make_paper
from paperfeed.papers.merge import apply_records

pytestmark = pytest.mark.django_db
# The official client talks to a live server thread, which only sees committed rows.
live = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hf_page(shared_dir):
    """The real 30-item HF page of 2026-06-12, imported into our database."""
    items, records = hf_fixture_records(shared_dir / "fixtures/hf-api/sotawhat_hf_daily_papers.json")
    apply_records(records)
    return items


@pytest.fixture
def hf(live_server, monkeypatch):
    # The client only talks to our own live server here. Offline mode (which the search
    # app turns on so model loading never dials out) is read once, at import, into a
    # constant, so that is what is switched off, for this test only.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    yield HfApi(endpoint=live_server.url, token=False)
    # Drop the client's keep-alive connections before the live server stops.
    close_session()


@live
def test_the_official_client_lists_a_day_as_hugging_face_would(hf, hf_page):
    papers = list(hf.list_daily_papers(date="2026-06-12", limit=100))
    assert len(papers) == len(hf_page) == 30
    # What the same client makes of Hugging Face's own recorded response, paper by paper.
    expected = {p.id: p for p in (PaperInfo(**copy.deepcopy(item)) for item in hf_page)}
    assert {p.id for p in papers} == set(expected)
    # Most upvoted first within the day, like the daily page.
    assert [p.upvotes or 0 for p in papers] == sorted((p.upvotes or 0 for p in papers), reverse=True)
    for paper in papers:
        hf_paper = expected[paper.id]
        for attribute in ("title", "summary", "published_at", "upvotes", "comments",
                          "ai_summary", "ai_keywords", "github_repo", "github_stars"):
            assert getattr(paper, attribute) == getattr(hf_paper, attribute), (paper.id, attribute)
        assert [a.name for a in paper.authors] == [a.name for a in hf_paper.authors]
        assert paper.submitted_by.name == hf_paper.submitted_by.name


@live
def test_the_official_client_reads_one_paper(hf, hf_page):
    original = next(i["paper"] for i in hf_page if i["paper"].get("ai_summary"))
    paper = hf.paper_info(original["id"])
    assert paper.id == original["id"]
    assert paper.title == original["title"]
    assert paper.summary == original["summary"]
    assert paper.ai_summary == original["ai_summary"]
    assert paper.published_at == dt.datetime.fromisoformat(original["publishedAt"][:10] + "T00:00:00+00:00")
    assert paper.submitted_at.date().isoformat() == original["submittedOnDailyAt"][:10]
    assert paper.submitted_by.username == original["submittedOnDailyBy"]["user"]


@live
def test_the_official_client_reads_a_paper_as_markdown(hf, hf_page):
    original = hf_page[0]["paper"]
    text = hf.read_paper(original["id"])
    assert text.startswith(f"# {original['title']}\n")
    assert original["summary"] in text
    assert f"<https://arxiv.org/pdf/{original['id']}>" in text


@live
def test_the_official_client_gets_a_404_for_an_unknown_paper(hf, hf_page):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as caught:
        hf.paper_info("2601.99999")
    assert caught.value.response.status_code == 404


@live
def test_the_official_client_searches(hf, hf_page):
    make_paper(title="Quokkanet: marsupial priors for vision transformers",
               abstract="We study quokkas.", arxiv_id="2606.11111", feed_date=dt.date(2026, 6, 12))
    results = list(hf.list_papers(query="quokkanet", limit=5))
    assert results[0].id == "2606.11111"
    assert results[0].title.startswith("Quokkanet")


@live
def test_github_repo_and_stars_come_through(hf, shared_dir):
    _, records = hf_fixture_records(shared_dir / "fixtures/hf-api/allnewsai_hf_daily_papers.json")
    apply_records(records)
    paper = hf.paper_info("2607.23193")
    assert paper.github_repo == "https://github.com/MAC-AutoML/OmniScope"
    assert paper.github_stars == 3


def test_daily_papers_paginates_with_a_link_header(client, hf_page):
    seen, url, pages = [], "/api/daily_papers?date=2026-06-12&limit=7", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += [item["paper"]["id"] for item in response.json()]
        link = response.get("Link")
        url = link[link.index("<") + 1:link.index(">")] if link else None
        pages += 1
    assert pages == 5  # 7 + 7 + 7 + 7 + 2
    assert len(seen) == len(set(seen)) == 30


def test_daily_items_have_hugging_faces_field_names(client, hf_page):
    item = client.get("/api/daily_papers?date=2026-06-12&limit=1").json()[0]
    original = hf_page[0]
    # Every top-level and paper field we fill is one HF uses too.
    assert set(item) <= set(original) | {"organization"}
    assert set(item["paper"]) <= set(original["paper"]) | {"githubRepo", "githubStars", "projectPage"}
    assert {"paper", "title", "summary", "numComments", "publishedAt"} <= set(item)
    assert {"id", "authors", "title", "summary", "upvotes", "publishedAt",
            "submittedOnDailyAt"} <= set(item["paper"])
    assert item["paper"]["submittedOnDailyAt"] == "2026-06-12T00:00:00.000Z"


def test_week_month_submitter_and_trending_filters(client, hf_page):
    june_papers = client.get("/api/daily_papers?month=2026-06&limit=100").json()
    assert len(june_papers) == 30
    assert client.get("/api/daily_papers?month=2026-05").json() == []
    assert len(client.get("/api/daily_papers?week=2026-W24&limit=100").json()) == 30
    submitter = hf_page[0]["paper"]["submittedOnDailyBy"]["user"]
    mine = client.get(f"/api/daily_papers?submitter={submitter}&limit=100").json()
    assert mine and all(i["paper"]["submittedOnDailyBy"]["user"] == submitter for i in mine)
    trending = client.get("/api/daily_papers?sort=trending&limit=100").json()
    # All papers share a day, so trending order is upvote order.
    upvotes = [i["paper"]["upvotes"] for i in trending]
    assert upvotes == sorted(upvotes, reverse=True) and len(trending) == 30


@pytest.mark.parametrize("query, message", [
    ("date=2026-13-01", "date must be a date"),
    ("week=2026-W60", "week must look like 2025-W09"),
    ("month=2026-6", "month must look like 2025-02"),
    ("date=2026-06-12&week=2026-W24", "only one of"),
    ("limit=0", "limit must be between 1 and 100"),
    ("p=-1", "p must be between"),
    ("sort=hot", "sort must be one of publishedAt, trending"),
])
def test_bad_parameters_get_a_400_with_a_clear_message(client, query, message):
    response = client.get(f"/api/daily_papers?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_daily_papers_is_a_fixed_number_of_queries(client, hf_page, django_assert_num_queries):
    # One for the papers (categories are not part of the HF shape, but prefetched: +1).
    with django_assert_num_queries(2):
        assert len(client.get("/api/daily_papers?limit=30").json()) == 30
    with django_assert_num_queries(2):
        assert len(client.get("/api/daily_papers?limit=5").json()) == 5
    # Trending: the stored ranking (refreshed by the worker) is read, not computed: its
    # snapshot, then the page (+ categories), at any corpus size.
    from paperfeed.papers import trending

    trending.refresh()
    for limit in (5, 30):
        with django_assert_num_queries(3):
            assert len(client.get(f"/api/daily_papers?sort=trending&limit={limit}").json()) == limit


@pytest.fixture
def hf_july(shared_dir):
    """The real 30-item HF page of 2026-07-31 (13 papers with an author taking part)."""
    items, records = hf_fixture_records(
        shared_dir / "fixtures/hf-api/personalnewsfeed_hf_daily_papers.json")
    apply_records(records)
    return items


@live
@pytest.mark.parametrize("page", ["hf_page", "hf_july"])
def test_handles_full_names_participation_and_paragraphs_come_through_as_on_hf(
        hf, page, request):
    items = {i["paper"]["id"]: i for i in request.getfixturevalue(page)}
    day = next(iter(items.values()))["paper"]["submittedOnDailyAt"][:10]
    papers = list(hf.list_daily_papers(date=day, limit=100))
    assert {p.id for p in papers} == set(items)
    for paper in papers:
        original = items[paper.id]
        expected = PaperInfo(**copy.deepcopy(original))
        # organization.name is the handle (caltech), fullname the name.
        if expected.organization:
            assert paper.organization.name == expected.organization.name, paper.id
            assert paper.organization.fullname == expected.organization.fullname, paper.id
        else:
            assert paper.organization is None
        assert paper.submitted_by.fullname == original["submittedBy"]["fullname"], paper.id
        assert paper.isAuthorParticipating is original["isAuthorParticipating"], paper.id
        assert paper.summary == original["paper"]["summary"], paper.id  # paragraph breaks too
    assert any("\n" in p.summary for p in papers)
    assert sum(p.isAuthorParticipating for p in papers) == sum(
        i["isAuthorParticipating"] for i in items.values()) > 0


@live
@pytest.mark.parametrize("query", ["2607.28618", "arXiv:2607.28618v1",
                                   "https://arxiv.org/abs/2607.28618", " 2607.28618v2 ",
                                   "https://arxiv.org/pdf/2607.28618v1"])
def test_the_official_client_finds_a_paper_by_its_arxiv_id_or_url(hf, hf_july, query):
    results = list(hf.list_papers(query=query))
    assert [p.id for p in results] == ["2607.28618"]


@pytest.mark.parametrize("url", ["/api/v1/search?q=2607.28618", "/api/v1/search?q=arXiv:2607.28618",
                                 "/api/v1/search.bib?q=2607.28618",
                                 "/feeds/search.atom?q=https://arxiv.org/abs/2607.28618"])
def test_every_search_route_resolves_an_arxiv_id(client, hf_july, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b"2607.28618" in response.content
    if url.startswith("/api/v1/search?"):
        assert [r["paper"]["id"] for r in response.json()["results"]] == ["2607.28618"]


def test_an_arxiv_id_search_keeps_its_filters(client, hf_july):
    body = client.get("/api/v1/search?q=2607.28618&category=hep-th").json()
    assert body["results"] == []


def test_a_member_who_submits_their_own_paper_is_an_author_participating(client):
    from paperfeed.papers.records import PaperRecord

    # Submissions made here (HF's own papers carry HF's verdict instead).
    apply_records([PaperRecord(source="submission", original_id="2601.00001", arxiv_id="2601.00001",
                               title="Mine", authors=("Ada Lovelace", "Charles Babbage"),
                               feed_date=dt.date(2026, 1, 5), submitted_by="ada",
                               submitter_name="Ada Lovelace",
                               organization="University of London"),
                   PaperRecord(source="submission", original_id="2601.00002", arxiv_id="2601.00002",
                               title="Theirs", authors=("Charles Babbage",),
                               feed_date=dt.date(2026, 1, 5), submitted_by="ada",
                               submitter_name="Ada Lovelace")])
    items = {i["paper"]["id"]: i for i in client.get("/api/daily_papers?date=2026-01-05").json()}
    assert items["2601.00001"]["isAuthorParticipating"] is True
    assert items["2601.00002"]["isAuthorParticipating"] is False
    assert items["2601.00001"]["submittedBy"] == {"name": "ada", "fullname": "Ada Lovelace",
                                                  "type": "user"}
    # A name-only organisation (saved pages) still gets a handle: HF clients require one.
    assert items["2601.00001"]["organization"] == {"name": "university-of-london",
                                                   "fullname": "University of London"}
