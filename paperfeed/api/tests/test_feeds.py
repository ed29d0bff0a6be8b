"""RSS and Atom feeds validate in feedparser and are advertised on the matching pages."""

from __future__ import annotations

import datetime as dt
import re

import feedparser
import pytest
from django.db.models import F

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
    client.get("/feeds/daily.rss")  # the first fetch also records the body's first sight
    with django_assert_num_queries(4):  # latest days, papers, categories, body's first sight
        client.get("/feeds/daily.rss")
    with django_assert_num_queries(3):  # dated papers, categories, the (empty) undated rest
        client.get("/api/v1/papers.bib?limit=100")


# -- RFC 4287 and RSS authorship, self links, validators -----------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def atom_problems(xml: bytes) -> list[str]:
    """What breaks RFC 4287 §4.1 in a feed document (the rules feed readers rely on)."""
    import xml.etree.ElementTree as ET

    feed = ET.fromstring(xml)
    problems = []
    if feed.tag != ATOM + "feed":
        return [f"root is {feed.tag}"]

    def count(parent, name):
        return len(parent.findall(ATOM + name))

    def check_person(person, where):
        if count(person, "name") != 1:
            problems.append(f"{where}: an author needs exactly one name")

    def check_date(parent, where):
        for name in ("updated", "published"):
            for element in parent.findall(ATOM + name):
                if not _RFC3339.fullmatch(element.text or ""):
                    problems.append(f"{where}: {name} {element.text!r} is not RFC 3339")

    for name in ("id", "title", "updated"):
        if count(feed, name) != 1:
            problems.append(f"feed: needs exactly one {name}")
    if [link.get("rel") for link in feed.findall(ATOM + "link")].count("self") != 1:
        problems.append("feed: needs one rel=self link")
    check_date(feed, "feed")
    for person in feed.findall(ATOM + "author"):
        check_person(person, "feed")
    entries = feed.findall(ATOM + "entry")
    if not feed.findall(ATOM + "author") and not all(e.findall(ATOM + "author") for e in entries):
        problems.append("feed: no author, and some entry has none (§4.1.1)")
    for number, entry in enumerate(entries):
        where = f"entry {number}"
        for name in ("id", "title", "updated"):
            if count(entry, name) != 1:
                problems.append(f"{where}: needs exactly one {name}")
        check_date(entry, where)
        for person in entry.findall(ATOM + "author"):
            check_person(person, where)
        alternates = [link for link in entry.findall(ATOM + "link")
                      if link.get("rel", "alternate") == "alternate"]
        if not entry.findall(ATOM + "content") and not alternates:
            problems.append(f"{where}: no content and no alternate link (§4.1.1)")
        if len({(link.get("type"), link.get("hreflang")) for link in alternates}) != len(alternates):
            problems.append(f"{where}: two alternate links of one type and language")
        for name in ("summary", "content", "title"):
            for element in entry.findall(ATOM + name):
                if element.get("type", "text") not in ("text", "html", "xhtml"):
                    problems.append(f"{where}: {name} type {element.get('type')!r}")
    return problems


@pytest.fixture
def bylines():
    return make_papers(
        record(arxiv_id="2511.02001", title="Many hands", feed_date=dt.date(2025, 11, 20),
               authors=("Ada Lovelace", "Charles Babbage", "Mary Somerville"),
               categories=("cs.LG",), upvotes=5),
        record(arxiv_id="2511.02002", title="Nobody wrote this", feed_date=dt.date(2025, 11, 20),
               categories=("cs.LG",), upvotes=4),
        record(arxiv_id="2511.02003", title="A crowd", feed_date=dt.date(2025, 11, 20),
               authors=tuple(f"Author {n}" for n in range(30)), categories=("cs.CL",), upvotes=3),
    )


ATOM_FEEDS = ["/feeds/daily.atom", "/feeds/trending.atom", "/feeds/category/cs.LG.atom",
              "/feeds/daily.atom?category=cs", "/feeds/search.atom?q=hands"]


@pytest.mark.parametrize("url", ATOM_FEEDS)
def test_atom_feeds_keep_rfc_4287(client, bylines, url):
    response = client.get(url)
    assert response.status_code == 200
    assert atom_problems(response.content) == []
    assert not feedparser.parse(response.content).bozo


def test_the_rule_checker_catches_a_feed_without_authors():
    bad = (b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>'
           b'<updated>2025-11-20T00:00:00Z</updated><link rel="self" href="x"/>'
           b'<entry><id>e</id><title>t</title><updated>2025-11-20</updated></entry></feed>')
    assert atom_problems(bad) == [
        "feed: no author, and some entry has none (§4.1.1)",
        "entry 0: updated '2025-11-20' is not RFC 3339",
        "entry 0: no content and no alternate link (§4.1.1)"]


def test_atom_names_each_author_in_their_own_element_and_the_site_on_the_feed(client, bylines):
    parsed = _parse(client, "/feeds/daily.atom")
    assert parsed.feed.author_detail.name == "paperfeed"
    by_title = {e.title: e for e in parsed.entries}
    assert [a.name for a in by_title["Many hands"].authors] == [
        "Ada Lovelace", "Charles Babbage", "Mary Somerville"]
    assert [a.name for a in by_title["A crowd"].authors] == [
        *(f"Author {n}" for n in range(10)), "et al."]
    # An entry without authors inherits the feed's (RFC 4287 §4.2.1).
    assert "authors" not in by_title["Nobody wrote this"] or all(
        a.get("name") == "paperfeed" for a in by_title["Nobody wrote this"].authors)


def test_rss_gives_one_dc_creator_per_author(client, bylines):
    import xml.etree.ElementTree as ET

    channel = ET.fromstring(client.get("/feeds/daily.rss").content).find("channel")
    creators = {item.findtext("title"): [c.text for c in item.findall(DC_CREATOR)]
                for item in channel.findall("item")}
    assert creators["Many hands"] == ["Ada Lovelace", "Charles Babbage", "Mary Somerville"]
    assert creators["Nobody wrote this"] == []
    assert len(creators["A crowd"]) == 11


@pytest.mark.parametrize("url", [
    "/feeds/daily.rss", "/feeds/daily.atom?category=cs.LG", "/feeds/category/cs.LG.atom",
    "/feeds/category/cs.LG.rss?utm_source=reader", "/feeds/search.atom?q=many+hands&x=%C3%A9",
    "/feeds/trending.rss",
])
def test_every_feed_links_to_itself_by_its_exact_url(client, bylines, url):
    parsed = _parse(client, url)
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == ["http://127.0.0.1" + url]


def _http_time(value: str) -> dt.datetime:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(value)


@pytest.mark.parametrize("url", ["/feeds/daily.rss", "/feeds/trending.atom",
                                 "/feeds/category/cs.LG.atom", "/feeds/search.rss?q=hands"])
def test_last_modified_moves_when_and_only_when_the_body_changes(client, bylines, url):
    first = client.get(url)
    same = client.get(url)
    assert same.content == first.content
    assert same["Last-Modified"] == first["Last-Modified"] and same["ETag"] == first["ETag"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    # A vote changes the count shown in the feed but no paper's updated_at.
    Paper.objects.filter(pk=bylines[0].pk).update(upvotes_imported=F("upvotes_imported") + 7)
    changed = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert changed.status_code == 200 and changed.content != first.content
    assert _http_time(changed["Last-Modified"]) > _http_time(first["Last-Modified"])
    assert changed["ETag"] != first["ETag"]
    revalidated = client.get(url, HTTP_IF_MODIFIED_SINCE=changed["Last-Modified"])
    assert revalidated.status_code == 304
    assert revalidated["Last-Modified"] == changed["Last-Modified"]


def test_a_recommendation_feed_keeps_rfc_4287_too(client, bylines):
    from django.contrib.auth import get_user_model

    from paperfeed.recommend.models import PrivateFeed, Recommendation

    user = get_user_model().objects.create_user("reader", password="x" * 12)
    Recommendation.objects.create(user=user, paper=bylines[1], score=1.0, reason="Because.")
    token = PrivateFeed.objects.create(user=user, token="t" * 32).token
    response = client.get(f"/papers/for-you/feed/{token}.atom")
    assert response.status_code == 200
    assert atom_problems(response.content) == []
    assert "private" in response["Cache-Control"]
