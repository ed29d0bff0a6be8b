"""Subscribing with only an address (double opt-in), preferences, one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from paperfeed.digests import tokens
from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.digests.tests.factories import make_subscriber
from paperfeed.lib.rates import parse_rate

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
_LINK = re.compile(r"https?://\S+/digest/(?:confirm|manage)/[^\s\"<]+")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def _link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return urlsplit(_LINK.search(text).group(0)).path


def test_the_header_offers_to_subscribe_on_every_page(client):
    html = client.get(reverse("papers:trending")).content.decode()
    assert f'action="{reverse("digests:subscribe")}"' in html
    assert 'type="email" name="email"' in html


def test_a_visitor_subscribes_with_only_an_address_and_confirms_by_the_signed_link(client, smtp_server):
    response = client.post(reverse("digests:subscribe"), {"email": " Ada@Example.org "})
    assert response.status_code == 302  # redirect after POST
    response = client.get(response["Location"])
    assert b"Check your inbox" in response.content and b"ada@example.org" in response.content
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status) == ("ada@example.org", Subscriber.Status.PENDING)
    assert subscriber.next_send_at is None and subscriber.user is None

    [mail] = smtp_server.messages_to("ada@example.org")
    assert "Confirm" in mail["Subject"]
    link = _link_in(mail)
    assert "/digest/confirm/" in link

    # Opening the link (as a mail scanner would) only shows a button.
    assert client.get(link).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING

    response = client.post(link)
    assert response.status_code == 302 and "/digest/manage/" in response["Location"]
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE and subscriber.confirmed_at is not None
    assert subscriber.next_send_at == dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)  # 08:00 UTC default
    assert b"You are subscribed" in client.get(response["Location"]).content


def test_subscribing_an_address_twice_sends_the_manage_link_and_tells_no_one(client, smtp_server):
    make_subscriber("ada@example.org")
    response = client.post(reverse("digests:subscribe"), {"email": "ada@example.org"}, follow=True)
    assert b"Check your inbox" in response.content  # the same page as for a new address
    [mail] = smtp_server.messages_to("ada@example.org")
    assert "/digest/manage/" in _link_in(mail)
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_the_form_cannot_flood_one_inbox(client, smtp_server, settings, frozen):
    settings.DIGESTS = {**settings.DIGESTS, "MAILS_PER_ADDRESS": parse_rate("2/day")}
    for _ in range(4):
        response = client.post(reverse("digests:subscribe"), {"email": "victim@example.org"},
                               follow=True)
        assert b"Check your inbox" in response.content  # the same answer every time
    assert len(smtp_server.messages_to("victim@example.org")) == 2
    frozen.shift(dt.timedelta(days=1))  # a new day, a new allowance
    client.post(reverse("digests:subscribe"), {"email": "victim@example.org"})
    assert len(smtp_server.messages_to("victim@example.org")) == 3


def test_one_address_cannot_subscribe_the_world(client, smtp_server, settings):
    settings.DIGESTS = {**settings.DIGESTS, "SUBSCRIBE_PER_IP": parse_rate("3/hour")}
    for n in range(3):
        assert client.post(reverse("digests:subscribe"), {"email": f"a{n}@example.org"},
                           REMOTE_ADDR="10.0.0.9").status_code == 302
    refused = client.post(reverse("digests:subscribe"), {"email": "a3@example.org"},
                          REMOTE_ADDR="10.0.0.9")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert b"Too many subscribe requests" in refused.content
    assert not Subscriber.objects.filter(email="a3@example.org").exists()
    assert client.post(reverse("digests:subscribe"), {"email": "a3@example.org"},
                       REMOTE_ADDR="10.0.0.10").status_code == 302  # another network is fine


def test_a_bad_address_gets_a_clear_error(client):
    response = client.post(reverse("digests:subscribe"), {"email": "not an address"})
    assert response.status_code == 400 and b"valid email address" in response.content
    assert not Subscriber.objects.exists()


def test_when_mail_cannot_be_sent_the_visitor_is_told_and_the_address_kept(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
    response = client.post(reverse("digests:subscribe"), {"email": "ada@example.org"})
    assert response.status_code == 503 and b"could not send" in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_confirmation_links_expire_and_forged_ones_are_refused(client, frozen):
    subscriber = make_subscriber("ada@example.org", status=Subscriber.Status.PENDING, due=False)
    link = reverse("digests:confirm", args=[tokens.confirm_token(subscriber)])
    forged = reverse("digests:confirm", args=[tokens.confirm_token(subscriber)[:-3] + "abc"])
    assert client.post(forged).status_code == 400
    manage_as_confirm = reverse("digests:confirm", args=[tokens.manage_token(subscriber)])
    assert client.post(manage_as_confirm).status_code == 400
    frozen.shift(dt.timedelta(days=8))
    assert client.post(link).status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_preferences_change_from_the_manage_link_and_reschedule_in_the_local_time_zone(client):
    subscriber = make_subscriber("ada@example.org", due=False)
    url = reverse("digests:manage", args=[tokens.manage_token(subscriber)])
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "cadence": "weekly", "weekday": "4", "send_hour": "7", "time_zone": "Asia/Tokyo",
        "max_papers": "5", "include_trending": "", "keywords": "diffusion, sparse attention",
        "categories": "cs.LG, math", "authors": "Yann LeCun\nAda Lovelace",
    })
    assert (response.status_code, response["Location"]) == (302, url + "?saved=1")
    assert b"Saved." in client.get(response["Location"]).content
    subscriber.refresh_from_db()
    assert (subscriber.cadence, subscriber.weekday, subscriber.send_hour) == ("weekly", 4, 7)
    assert subscriber.keywords == ["diffusion", "sparse attention"]
    assert subscriber.categories == ["cs.LG", "math"]
    assert subscriber.authors == ["Yann LeCun", "Ada Lovelace"]
    assert (subscriber.max_papers, subscriber.include_trending) == (5, False)
    # Friday 2026-11-27 07:00 in Tokyo is Thursday 22:00 UTC.
    assert subscriber.next_send_at == dt.datetime(2026, 11, 26, 22, tzinfo=dt.UTC)


@pytest.mark.parametrize("change, message", [
    ({"time_zone": "Mars/Olympus"}, b"Select a valid choice"),
    ({"categories": "cs.NOPE"}, b"Unknown arXiv categories: cs.NOPE"),
    ({"include_trending": "", "keywords": ""}, b"otherwise the digest is empty"),
    ({"max_papers": "500"}, b"less than or equal to 50"),
])
def test_bad_preferences_are_refused_with_a_clear_error(client, change, message):
    subscriber = make_subscriber("ada@example.org", due=False)
    form = {"cadence": "daily", "weekday": "0", "send_hour": "8", "time_zone": "UTC",
            "max_papers": "10", "include_trending": "on", "keywords": "x"} | change
    response = client.post(reverse("digests:manage", args=[tokens.manage_token(subscriber)]), form)
    assert response.status_code == 400 and message in response.content
    assert Subscriber.objects.get().time_zone == "UTC"


def test_one_click_unsubscribe_works_as_a_bare_post_without_session_or_csrf_token():
    subscriber = make_subscriber("ada@example.org")
    Delivery.objects.create(subscriber=subscriber, edition="daily:2026-11-23", due_at=NOW,
                            next_attempt_at=NOW)
    bare = Client(enforce_csrf_checks=True)  # a mail provider's POST: no cookies at all
    url = reverse("digests:unsubscribe", args=[tokens.manage_token(subscriber)])

    assert bare.get(url).status_code == 200  # a GET (a link scanner) changes nothing
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE

    response = bare.post(url, "List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED and subscriber.next_send_at is None
    assert Delivery.objects.get().state == Delivery.State.CANCELLED


def test_other_forms_still_need_their_csrf_token():
    subscriber = make_subscriber("ada@example.org", due=False)
    bare = Client(enforce_csrf_checks=True)
    assert bare.post(reverse("digests:subscribe"), {"email": "x@example.org"}).status_code == 403
    assert bare.post(reverse("digests:manage", args=[tokens.manage_token(subscriber)]),
                     {"cadence": "weekly"}).status_code == 403


def test_a_link_for_a_deleted_address_is_refused_not_an_error(client):
    subscriber = make_subscriber("ada@example.org", due=False)
    token = tokens.manage_token(subscriber)
    subscriber.delete()
    assert client.post(reverse("digests:unsubscribe", args=[token])).status_code == 400
    assert client.get(reverse("digests:manage", args=["garbage"])).status_code == 400


def test_the_manage_page_costs_one_query(client, django_assert_num_queries):
    subscriber = make_subscriber("ada@example.org", due=False)
    url = reverse("digests:manage", args=[tokens.manage_token(subscriber)])
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


def test_digest_forms_redirect_after_a_successful_post(client, smtp_server):
    """Post/Redirect/Get: a reload of the page after a form sends and changes nothing."""
    response = client.post(reverse("digests:subscribe"), {"email": "ada@example.org"})
    assert (response.status_code, response["Location"]) == (302, reverse("digests:subscribe_sent"))
    for _ in range(2):
        page = client.get(response["Location"])
        assert b"Check your inbox" in page.content and b"ada@example.org" in page.content
    assert len(smtp_server.messages_to("ada@example.org")) == 1
    # Without a subscription in this session, the page has nothing to say.
    assert Client().get(reverse("digests:subscribe_sent"))["Location"] == reverse("digests:subscribe")

    subscriber = make_subscriber("bob@example.org")
    url = reverse("digests:unsubscribe", args=[tokens.manage_token(subscriber)])
    response = client.post(url)  # the page's button
    assert (response.status_code, response["Location"]) == (302, url)
    assert b"You are unsubscribed" in client.get(url).content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def _subscribe(client, smtp_server, email: str) -> str:
    """Post the form and return the path of the link in the newest e-mail to ``email``."""
    client.post(reverse("digests:subscribe"), {"email": email})
    return _link_in(smtp_server.messages_to(email)[-1])


def test_unsubscribing_wins_over_every_earlier_confirmation_link(client, smtp_server):
    first = _subscribe(client, smtp_server, "ada@example.org")
    again = _subscribe(client, smtp_server, "ada@example.org")  # two links, both pending
    assert client.post(first).status_code == 302
    subscriber = Subscriber.objects.get()
    unsubscribe = reverse("digests:unsubscribe", args=[tokens.manage_token(subscriber)])
    Client().post(unsubscribe, "List-Unsubscribe=One-Click",
                  content_type="application/x-www-form-urlencoded")
    for link in (first, again):  # still within their 7 days
        assert client.get(link).status_code == 400
        assert client.post(link).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED and subscriber.next_send_at is None

    # Only a new opt-in undoes it: a new link works, the old ones stay dead.
    fresh = _subscribe(client, smtp_server, "ada@example.org")
    assert client.post(fresh).status_code == 302
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
    assert client.post(first).status_code == 400
    # And unsubscribing again beats that new link too.
    Client().post(unsubscribe, "List-Unsubscribe=One-Click",
                  content_type="application/x-www-form-urlencoded")
    assert client.post(fresh).status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_an_old_manage_link_subscribes_again_only_through_a_new_confirmation(client, smtp_server):
    subscriber = make_subscriber("ada@example.org")
    manage = reverse("digests:manage", args=[tokens.manage_token(subscriber)])
    unsubscribe = reverse("digests:unsubscribe", args=[tokens.manage_token(subscriber)])
    client.post(unsubscribe)
    response = client.post(manage, {"action": "resubscribe"})
    assert response["Location"] == reverse("digests:subscribe_sent")
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING  # not active yet
    [mail] = smtp_server.messages_to("ada@example.org")
    assert client.post(_link_in(mail)).status_code == 302
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE

