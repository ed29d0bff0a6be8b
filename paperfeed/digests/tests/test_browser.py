"""The whole story in a real browser: subscribe from the header, confirm, receive, unsubscribe."""

from __future__ import annotations

import re

import pytest

from paperfeed.digests.models import Subscriber
from paperfeed.digests.sender import Sender
from paperfeed.sources.demo import load_demo_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _link(message, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https?://\S+/digest/{kind}/\S+", text).group(0)


def test_a_visitor_subscribes_confirms_gets_the_digest_and_unsubscribes(
        live_server, page, smtp_server, settings):
    settings.SITE_URL = live_server.url
    load_demo_corpus()
    page.goto(f"{live_server.url}/papers/trending")
    page.locator(".header-menu > summary").click()  # the header's menu holds the e-mail box
    page.get_by_placeholder("you@example.org").fill("reader@example.org")
    page.locator(".header-subscribe").get_by_role("button", name="Subscribe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"

    [confirmation] = smtp_server.messages_to("reader@example.org")
    page.goto(_link(confirmation, "confirm"))
    page.get_by_role("button", name="Yes, subscribe me").click()
    assert "You are subscribed" in page.locator("main").inner_text()

    Subscriber.objects.update(next_send_at=Subscriber.objects.get().confirmed_at)  # due now
    assert Sender().run_once().sent == 1
    digest = smtp_server.messages_to("reader@example.org")[-1]
    assert digest["Subject"].startswith("Daily papers of ")

    page.goto(_link(digest, "unsubscribe"))
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are unsubscribed"
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
