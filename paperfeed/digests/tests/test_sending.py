"""The sender against a real SMTP server on loopback: the ledger's states, retries, bounces."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.digests.sender import Sender
from paperfeed.digests.tests.factories import make_paper, make_subscriber

pytestmark = pytest.mark.django_db(transaction=True)
State = Delivery.State
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def papers():
    today = NOW.date()
    return [make_paper(f"Sparse attention, part {i}", feed_date=today, upvotes=10 * i) for i in range(1, 4)]


def test_it_sends_one_digest_per_due_subscriber_and_records_it(smtp_server, papers):
    ada = make_subscriber("ada@example.org")
    make_subscriber("later@example.org", due=False)

    stats = Sender().run_once()

    assert stats.sent == 1
    assert [r.rcpt_tos for r in smtp_server.received] == [["ada@example.org"]]
    delivery = Delivery.objects.get()
    assert (delivery.subscriber, delivery.state, delivery.edition) == (ada, State.SENT, "daily:2026-11-23")
    assert delivery.paper_count == 3 and delivery.attempts == 1
    ada.refresh_from_db()
    assert ada.seen_through == NOW.date()
    assert ada.next_send_at == dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)


def test_a_second_run_sends_nothing_again(smtp_server, papers):
    make_subscriber("ada@example.org")
    Sender().run_once()
    Delivery.objects.update(state=State.PENDING)  # even a row put back by hand…
    Subscriber.objects.update(next_send_at=timezone.now())  # …and a subscriber due again

    Sender().run_once()

    # …is the same (subscriber, edition): the ledger has one row, and the second digest
    # found nothing new since the first one, so it was skipped rather than repeated.
    assert len(smtp_server.received) == 1
    assert Delivery.objects.get().state == State.SKIPPED


def test_nothing_is_sent_when_nothing_is_new(smtp_server):
    make_subscriber("ada@example.org")
    stats = Sender().run_once()
    assert (stats.sent, stats.skipped, smtp_server.received) == (0, 1, [])
    assert Delivery.objects.get().state == State.SKIPPED


def test_a_temporary_refusal_is_retried_with_back_off_until_it_goes_through(smtp_server, papers, frozen):
    make_subscriber("busy@example.org")
    smtp_server.refuse["busy@example.org"] = ("rcpt", "451 4.3.0 Try again later")

    Sender(retry_seconds=60).run_once()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (State.PENDING, 1)
    assert delivery.next_attempt_at >= timezone.now() + dt.timedelta(seconds=55)

    Sender(retry_seconds=60).run_once()  # not yet due: nothing happens
    assert Delivery.objects.get().attempts == 1

    frozen.shift(dt.timedelta(seconds=61))
    Sender(retry_seconds=60).run_once()  # refused again: the next wait is twice as long
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (State.PENDING, 2)
    assert delivery.next_attempt_at >= timezone.now() + dt.timedelta(seconds=115)

    del smtp_server.refuse["busy@example.org"]
    frozen.shift(dt.timedelta(seconds=121))
    Sender(retry_seconds=60).run_once()
    assert Delivery.objects.get().state == State.SENT
    assert len(smtp_server.messages_to("busy@example.org")) == 1


def test_a_digest_refused_temporarily_too_often_fails(smtp_server, papers, frozen):
    make_subscriber("busy@example.org")
    smtp_server.refuse["busy@example.org"] = ("data", "452 4.3.1 Insufficient storage")
    for _ in range(3):
        Sender(retry_seconds=1, max_attempts=3).run_once()
        frozen.shift(dt.timedelta(seconds=10))
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (State.FAILED, 3)
    assert "452" in delivery.last_error
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_a_permanent_refusal_marks_the_address_and_stops(smtp_server, papers, frozen):
    gone = make_subscriber("gone@example.org")
    make_subscriber("ada@example.org")
    smtp_server.refuse["gone@example.org"] = ("rcpt", "550 5.1.1 No such user")

    stats = Sender().run_once()

    assert (stats.sent, stats.failed, stats.bounced) == (1, 1, 1)
    gone.refresh_from_db()
    assert gone.status == Subscriber.Status.BOUNCED and "550" in gone.bounce_reason
    assert gone.next_send_at is None
    assert Delivery.objects.get(subscriber=gone).state == State.FAILED
    frozen.shift(dt.timedelta(days=1))
    Sender().run_once()
    assert Delivery.objects.filter(subscriber=gone).count() == 1  # never scheduled again


def test_a_server_that_is_down_leaves_the_digests_pending(settings, papers):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard port: refused
    make_subscriber("ada@example.org")
    stats = Sender().run_once()
    delivery = Delivery.objects.get()
    assert (stats.retrying, delivery.state, delivery.attempts) == (1, State.PENDING, 1)
    assert delivery.next_attempt_at > timezone.now()


def test_a_digest_left_sending_is_reported_in_doubt_and_never_resent(smtp_server, papers, frozen):
    ada = make_subscriber("ada@example.org")
    # What a sender killed after SMTP accepted the message but before it recorded that leaves.
    Delivery.objects.create(subscriber=ada, edition="daily:2026-11-23", state=State.SENDING,
                            due_at=NOW, next_attempt_at=NOW, sending_at=timezone.now(), attempts=1)
    Subscriber.objects.update(next_send_at=timezone.now() + dt.timedelta(hours=1))

    assert Sender(lease=dt.timedelta(minutes=5)).run_once().in_doubt == 0  # may still be sending
    frozen.shift(dt.timedelta(minutes=6))
    assert Sender(lease=dt.timedelta(minutes=5)).run_once().in_doubt == 1
    Sender().run_once()

    assert smtp_server.received == []
    assert Delivery.objects.get().state == State.IN_DOUBT
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("senddigests", "--report-in-doubt", stdout=out)
    assert exit_info.value.code == 3
    assert "ada@example.org\tdaily:2026-11-23" in out.getvalue()

    call_command("senddigests", "--resolve", str(Delivery.objects.get().pk), "--as", "resend",
                 stdout=io.StringIO())
    Sender().run_once()
    assert len(smtp_server.messages_to("ada@example.org")) == 1
    assert Delivery.objects.get().state == State.SENT


def test_an_unsubscribed_reader_gets_nothing_already_scheduled(smtp_server, papers):
    ada = make_subscriber("ada@example.org")
    Delivery.objects.create(subscriber=ada, edition="daily:2026-11-23", due_at=NOW, next_attempt_at=NOW)
    Subscriber.objects.update(status=Subscriber.Status.UNSUBSCRIBED, next_send_at=None)
    stats = Sender().run_once()
    assert (stats.cancelled, smtp_server.received) == (1, [])
