"""What a digest looks like: both parts, the subject, links and the RFC 8058 headers."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.digests.sender import RunStats, Sender, schedule_due
from paperfeed.digests.tests.factories import make_paper, make_subscriber

pytestmark = pytest.mark.django_db(transaction=True)
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def digest(smtp_server, settings):
    settings.SITE_URL = "https://papers.example.org"
    day = NOW.date()
    make_paper("Attention Is <Still> All You Need", feed_date=day, upvotes=42,
               abstract="We revisit attention. " * 30,
               authors=["A. One", "B. Two", "C. Three", "D. Four", "E. Five", "F. Six", "G. Seven"])
    for i in range(1, 10):
        make_paper(f"Follow-up {i}", feed_date=day, upvotes=i)
    make_subscriber("ada@example.org")
    Sender().run_once()
    [message] = smtp_server.messages_to("ada@example.org")
    return message


def test_the_subject_names_the_day_the_top_paper_and_how_many_more(digest):
    assert digest["Subject"] == "Daily papers of 2026-11-23: Attention Is <Still> All You Need and 9 more"


def test_it_is_multipart_text_and_html_with_every_paper(digest):
    assert digest.get_content_type() == "multipart/alternative"
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    for part in (text, html):
        assert "42 upvotes" in re.sub(r"<[^>]+>|&#9650;", "", part).replace("  ", " ")
        assert "https://papers.example.org/papers/2611." in part
        assert "https://arxiv.org/pdf/2611." in part
        assert "A. One, B. Two, C. Three, D. Four, E. Five and 2 more" in part
        assert all(f"Follow-up {i}" in part for i in range(1, 10))
    assert "Attention Is <Still> All You Need" in text  # plain text is not escaped…
    assert "Attention Is &lt;Still&gt; All You Need" in html  # …HTML is
    assert "We revisit attention. We revisit" in text and "…" in text  # a short abstract
    assert len(text) < 9000


def test_the_html_needs_nothing_from_the_network(digest):
    html = digest.get_body(("html",)).get_content()
    assert "<img" not in html and "<link" not in html and "<style" not in html
    assert 'style="' in html  # CSS is inline
    assert not re.search(r"url\(", html)


def test_the_headers_offer_one_click_unsubscribe_that_works(digest):
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = digest["List-Unsubscribe"].strip().strip("<>")  # long: folded onto its own line
    assert url.startswith("https://papers.example.org/digest/unsubscribe/")
    assert url in digest.get_body(("plain",)).get_content()
    assert digest["X-Paperfeed-Edition"] == "daily:2026-11-23"
    assert digest["Message-ID"] == f"<daily.2026-11-23.{Subscriber.objects.get().pk}.digest@papers.example.org>"
    assert Delivery.objects.get().message_id == digest["Message-ID"]

    response = Client(enforce_csrf_checks=True).post(
        urlsplit(url).path, "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_personal_topics_come_first_then_trending_fills_up(smtp_server):
    day = NOW.date()
    make_paper("Popular robotics paper", feed_date=day, upvotes=100)
    make_paper("Quiet diffusion paper", feed_date=day, upvotes=1)
    make_paper("Paper by a followed author", feed_date=day, upvotes=2, authors=["Grace Hopper"])
    make_paper("Old diffusion paper", feed_date=day - dt.timedelta(days=3), upvotes=50)
    make_subscriber("ada@example.org", keywords=["diffusion"], authors=["grace hopper"], max_papers=3,
                    seen_through=day - dt.timedelta(days=1))
    make_subscriber("bob@example.org", keywords=["diffusion"], include_trending=False,
                    seen_through=day - dt.timedelta(days=1))
    Sender().run_once()

    def titles(address):
        [message] = smtp_server.messages_to(address)
        text = message.get_body(("plain",)).get_content()
        return re.findall(r"^\d+\. (.+?)\r?$", text, re.M)

    assert titles("ada@example.org") == [
        "Paper by a followed author", "Quiet diffusion paper", "Popular robotics paper"]
    assert titles("bob@example.org") == ["Quiet diffusion paper"]  # the old one was seen already


def test_building_a_batch_costs_the_same_queries_for_ten_or_fifty_digests(smtp_server):
    day = NOW.date()
    for i in range(12):
        make_paper(f"Paper {i}", feed_date=day, upvotes=i)

    def prepare_queries(count: int, start: int) -> int:
        for i in range(start, start + count):
            make_subscriber(f"r{i}@example.org", keywords=["paper"])
        sender = Sender(batch_size=100)
        schedule_due(timezone.now(), 100)
        ids = sender.claim()
        with CaptureQueriesContext(connection) as queries:
            sender.prepare(ids, RunStats())
        Delivery.objects.all().delete()
        Subscriber.objects.all().delete()
        return len(queries)

    assert prepare_queries(10, 0) == prepare_queries(50, 100)


def test_trending_fills_up_in_the_stored_rankings_order(smtp_server):
    from paperfeed.papers import trending
    from paperfeed.papers.models import Paper
    from paperfeed.papers.ranking import trending as ranked_now

    day = NOW.date()
    # Younger papers weigh more: 30 upvotes today outrank 60 of three days ago.
    make_paper("Three days old, 60 upvotes", feed_date=day - dt.timedelta(days=3), upvotes=60)
    make_paper("Today, 30 upvotes", feed_date=day, upvotes=30)
    make_paper("Yesterday, 5 upvotes", feed_date=day - dt.timedelta(days=1), upvotes=5)
    trending.refresh()
    formula = [p.title for p in ranked_now(Paper.objects.all(), timezone.now())[0]]
    assert formula[:2] == ["Today, 30 upvotes", "Three days old, 60 upvotes"]
    # Read from the stored ranking, not ranked again: a change no event announced (it
    # would rescore the paper) does not reorder the digest.
    Paper.objects.filter(title__startswith="Yesterday").update(upvotes_local=500)
    make_subscriber("ada@example.org", max_papers=3, seen_through=day - dt.timedelta(days=4))
    Sender().run_once()
    [message] = smtp_server.messages_to("ada@example.org")
    text = message.get_body(("plain",)).get_content()
    assert re.findall(r"^\d+\. (.+?)\r?$", text, re.M) == formula
