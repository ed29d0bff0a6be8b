"""RSS and Atom feeds validate in feedparser and are advertised on the matching pages."""

from __future__ import annotations

import datetime as dt
import re

import feedparser
import pytest

from paperfeed.api.tests.factories import make_papers, record
from paperfeed.papers.models import Paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed_papers():
    rows = [record(arxiv_id=f"2511.0{1000 + i}", title=f"Feed paper {i} <with> & markup",
                   abstract=f"Abstract {i} says x < y & z.\x0c", authors=("A. Author", "B. Author"),
                   categories=("cs.CL",) if i % 2 else ("cs.LG",), upvotes=i,
                   feed_date=dt.date(2025, 11, 16 + i % 5), published_on=dt.date(2025, 11, 15))
            for i in range(10)]
    return make_papers(*rows)


def _parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, (url, parsed.get("bozo_exception"))
    return parsed


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_daily_feed_is_valid_and_carries_the_latest_days(client, feed_papers, kind):
    parsed = _parse(client, f"/feeds/daily.{kind}")
    assert parsed.version == ("rss20" if kind == "rss" else "atom10")
    days = {e.published_parsed[:3] for e in parsed.entries}
    assert days == {(2025, 11, 20), (2025, 11, 19), (2025, 11, 18)}
    first = parsed.entries[0]
    # Newest day first, most upvoted first within it.
    assert first.title == "Feed paper 9 <with> & markup"
    assert first.link == "http://127.0.0.1/papers/2511.01009"
    assert first.id == f"tag:127.0.0.1,2025:paper/{feed_papers[9].pk}"
    assert first.published_parsed[:6] == (2025, 11, 20, 0, 0, 0)
    # The abstract arrives as HTML with its text escaped, plus links to the PDF and arXiv.
    assert "<p>Abstract 9 says x &lt; y &amp; z. </p>" in first.summary
    assert '<a href="https://arxiv.org/pdf/2511.01009">PDF</a>' in first.summary
    assert {t.term for t in first.tags} == {"cs.CL"}


def test_guids_do_not_change_between_fetches_or_when_a_paper_gains_an_arxiv_id(client, feed_papers):
    before = {e.id: e.link for e in _parse(client, "/feeds/daily.rss").entries}
    latest = feed_papers[9]
    Paper.objects.filter(pk=latest.pk).update(arxiv_id=None)  # known by its slug only
    by_slug = {e.id: e.link for e in _parse(client, "/feeds/daily.rss").entries}
    assert set(by_slug) == set(before)
    guid = f"tag:127.0.0.1,2025:paper/{latest.pk}"
    assert by_slug[guid] == f"http://127.0.0.1/papers/{latest.slug}" != before[guid]


def test_rss_items_enclose_the_pdf(client, feed_papers):
    entry = _parse(client, "/feeds/trending.rss").entries[0]
    assert entry.enclosures[0]["href"].startswith("https://arxiv.org/pdf/")
    assert entry.enclosures[0]["type"] == "application/pdf"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_category_feeds_hold_only_that_category(client, feed_papers, kind):
    parsed = _parse(client, f"/feeds/category/cs.LG.{kind}")
    assert parsed.entries and all({t.term for t in e.tags} == {"cs.LG"} for e in parsed.entries)
    assert client.get(f"/feeds/category/xx.NOPE.{kind}").status_code == 404


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_search_feed_lists_matches_best_first(client, feed_papers, kind):
    make_papers(record(title="Platypusnet: egg-laying language models", abstract="Monotremes."))
    parsed = _parse(client, f"/feeds/search.{kind}?q=platypusnet")
    assert parsed.entries[0].title.startswith("Platypusnet")
    assert any(link.href.endswith("?q=platypusnet") for link in parsed.feed.links)


def test_a_search_feed_without_words_is_a_clear_400(client):
    response = client.get("/feeds/search.rss")
    assert response.status_code == 400
    assert b"?q=" in response.content


def test_trending_feed_is_valid(client, feed_papers):
    parsed = _parse(client, "/feeds/trending.atom")
    assert len(parsed.entries) == 10


def _alternates(html: str) -> list[str]:
    return re.findall(r'<link rel="alternate" type="application/(?:rss|atom)\+xml" title="[^"]*" href="([^"]+)"', html)


def test_pages_advertise_their_matching_feeds(client, feed_papers):
    assert _alternates(client.get("/papers").content.decode()) == ["/feeds/daily.rss", "/feeds/daily.atom"]
    assert _alternates(client.get("/papers/date/2025-11-18").content.decode())[0] == "/feeds/daily.rss"
    assert _alternates(client.get("/papers?category=cs.LG").content.decode()) == [
        "/feeds/category/cs.LG.rss", "/feeds/category/cs.LG.atom"]
    assert _alternates(client.get("/papers/trending").content.decode()) == [
        "/feeds/trending.rss", "/feeds/trending.atom"]
    assert _alternates(client.get("/papers/all").content.decode()) == []


def test_the_daily_feed_takes_a_category_parameter_too(client, feed_papers):
    parsed = _parse(client, "/feeds/daily.rss?category=cs.CL")
    assert parsed.entries and all({t.term for t in e.tags} == {"cs.CL"} for e in parsed.entries)


def test_feeds_and_list_exports_are_a_fixed_number_of_queries(client, feed_papers,
                                                              django_assert_num_queries):
    with django_assert_num_queries(3):  # latest days, papers, categories
        client.get("/feeds/daily.rss")
    with django_assert_num_queries(3):  # dated papers, categories, the (empty) undated rest
        client.get("/api/v1/papers.bib?limit=100")
