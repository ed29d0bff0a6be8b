"""The sender against a real SMTP server on loopback: the ledger's states, retries, bounces."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from paperfeed.digests import tokens
from paperfeed.digests.emails import digest_message_id
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


def test_a_permanent_refusal_marks_the_address_and_stops(smtp_server, papers, frozen, client):
    gone = make_subscriber("gone@example.org")
    old_link = reverse("digests:confirm", args=[tokens.confirm_token(gone)])
    make_subscriber("ada@example.org")
    smtp_server.refuse["gone@example.org"] = ("rcpt", "550 5.1.1 No such user")

    stats = Sender().run_once()

    assert (stats.sent, stats.failed, stats.bounced) == (1, 1, 1)
    gone.refresh_from_db()
    assert gone.status == Subscriber.Status.BOUNCED and "550" in gone.bounce_reason
    assert gone.next_send_at is None
    # A confirmation link sent before the bounce cannot switch the address back on.
    assert client.post(old_link).status_code == 400
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
    # A row from before Message-IDs were stored with "sending" still names its Message-ID.
    assert f"\t{digest_message_id(ada.pk, 'daily:2026-11-23')}\t" in out.getvalue()

    call_command("senddigests", "--resolve", str(Delivery.objects.get().pk), "--as", "resend",
                 stdout=io.StringIO())
    Sender().run_once()
    assert len(smtp_server.messages_to("ada@example.org")) == 1
    assert Delivery.objects.get().state == State.SENT


def _report_in_doubt() -> str:
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("senddigests", "--report-in-doubt", stdout=out)
    return out.getvalue()


def test_a_digest_cut_off_mid_message_is_in_doubt_and_the_report_names_its_message_id(
        smtp_server, papers):
    make_subscriber("ada@example.org")
    make_subscriber("bob@example.org")
    # The server stores Ada's digest, then hangs up before it says 250.
    smtp_server.hang_up = lambda item: "before-reply" if "ada@example.org" in item.rcpt_tos else ""

    stats = Sender().run_once()

    assert (stats.sent, stats.in_doubt) == (1, 1)
    [stored] = smtp_server.messages_to("ada@example.org")
    doubtful = Delivery.objects.get(state=State.IN_DOUBT)
    assert doubtful.subscriber.email == "ada@example.org"
    assert doubtful.message_id == stored["Message-ID"] != ""
    line = next(row for row in _report_in_doubt().splitlines() if row.startswith(f"{doubtful.pk}\t"))
    assert line.split("\t")[4] == stored["Message-ID"]
    # Each sent row holds the Message-ID its message went out with.
    sent = Delivery.objects.get(state=State.SENT)
    assert sent.message_id == smtp_server.messages_to("bob@example.org")[0]["Message-ID"]


def test_a_connection_the_server_dropped_between_two_messages_is_reopened_not_in_doubt(
        smtp_server, papers):
    for name in ("ada", "bob", "cy", "dee"):
        make_subscriber(f"{name}@example.org")
    # A server whose idle timeout is shorter than the pause between two digests: it closes
    # the connection after every other message, so the next MAIL FROM meets a closed socket
    # (smtplib: SMTPServerDisconnected) before anything of that message was handed over.
    smtp_server.hang_up = lambda item: "after-reply" if smtp_server.count % 2 else ""

    stats = Sender().run_once()

    assert (stats.sent, stats.in_doubt, stats.retrying) == (4, 0, 0)
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.SENT}
    for name in ("ada", "bob", "cy", "dee"):
        assert len(smtp_server.messages_to(f"{name}@example.org")) == 1


def test_a_server_gone_for_good_before_data_leaves_the_digest_pending_not_in_doubt(
        smtp_server, papers):
    make_subscriber("ada@example.org")
    make_subscriber("bob@example.org")

    def hang_up(item):  # after the first message: hang up and stop listening
        smtp_server.controller.server.close()
        return "after-reply"

    smtp_server.hang_up = hang_up

    stats = Sender().run_once()

    assert (stats.sent, stats.in_doubt, stats.retrying) == (1, 0, 1)
    retried = Delivery.objects.get(state=State.PENDING)
    assert "before DATA" in retried.last_error and retried.attempts == 1


def test_an_unsubscribed_reader_gets_nothing_already_scheduled(smtp_server, papers):
    ada = make_subscriber("ada@example.org")
    Delivery.objects.create(subscriber=ada, edition="daily:2026-11-23", due_at=NOW, next_attempt_at=NOW)
    Subscriber.objects.update(status=Subscriber.Status.UNSUBSCRIBED, next_send_at=None)
    stats = Sender().run_once()
    assert (stats.cancelled, smtp_server.received) == (1, [])


def test_a_weekly_reader_gets_one_digest_a_week_on_their_day_at_their_hour(smtp_server, frozen):
    # Weekly on Wednesday at 07:00 in New York (12:00 UTC in November).
    reader = make_subscriber("weekly@example.org", due=False, cadence="weekly", weekday=2,
                             send_hour=7, time_zone="America/New_York")
    assert reader.next_send_at == dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    sent_at = []
    for hour in range(0, 14 * 24, 3):  # two weeks, a run every three hours
        moment = NOW + dt.timedelta(hours=hour)
        frozen.move_to(moment)
        make_paper(f"Paper of hour {hour}", feed_date=moment.date(), upvotes=hour)
        if Sender().run_once().sent:
            sent_at.append(moment)
    assert [m.date() for m in sent_at] == [dt.date(2026, 11, 25), dt.date(2026, 12, 2)]
    assert all(m.hour >= 12 for m in sent_at)
    editions = [m["X-Paperfeed-Edition"] for m in smtp_server.messages_to("weekly@example.org")]
    assert editions == ["weekly:2026-W48", "weekly:2026-W49"]
    subjects = [m["Subject"] for m in smtp_server.messages_to("weekly@example.org")]
    assert subjects[0].startswith("Weekly papers of 2026-W48: ")


def test_each_reader_gets_the_digest_at_their_local_hour(smtp_server, papers, frozen):
    make_subscriber("tokyo@example.org", due=False, send_hour=8, time_zone="Asia/Tokyo")  # 23:00 UTC
    make_subscriber("paris@example.org", due=False, send_hour=8, time_zone="Europe/Paris")  # 07:00 UTC
    frozen.move_to(dt.datetime(2026, 11, 23, 22, 59, tzinfo=dt.UTC))
    assert Sender().run_once().sent == 0
    frozen.move_to(dt.datetime(2026, 11, 23, 23, 0, 30, tzinfo=dt.UTC))
    Sender().run_once()
    [tokyo] = smtp_server.messages_to("tokyo@example.org")
    assert tokyo["X-Paperfeed-Edition"] == "daily:2026-11-24"  # already the 24th in Tokyo
    assert smtp_server.messages_to("paris@example.org") == []
    frozen.move_to(dt.datetime(2026, 11, 24, 7, 0, 30, tzinfo=dt.UTC))
    Sender().run_once()
    [paris] = smtp_server.messages_to("paris@example.org")
    assert paris["X-Paperfeed-Edition"] == "daily:2026-11-24"


def test_a_dry_run_writes_an_mbox_and_sends_and_records_nothing(smtp_server, papers, tmp_path):
    import mailbox

    make_subscriber("ada@example.org")
    make_subscriber("bob@example.org")
    out = io.StringIO()
    call_command("senddigests", "--dry-run", "--to", str(tmp_path / "digests.mbox"), stdout=out)
    box = mailbox.mbox(str(tmp_path / "digests.mbox"))
    assert sorted(m["To"] for m in box) == ["ada@example.org", "bob@example.org"]
    assert all(m["Subject"].startswith("Daily papers of 2026-11-23: ") for m in box)
    assert "2 digest(s) would be sent" in out.getvalue()
    assert smtp_server.received == [] and not Delivery.objects.exists()
    assert Subscriber.objects.filter(next_send_at__lte=timezone.now()).count() == 2  # still due


def test_to_without_dry_run_is_refused(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--to only goes with --dry-run"):
        call_command("senddigests", "--to", str(tmp_path / "x.mbox"))


def test_a_digest_that_cannot_be_built_fails_alone_and_the_others_go_out(smtp_server, papers):
    make_subscriber("ada@example.org")
    make_subscriber("bob@example.org")
    # A row no form would save (JSONField takes any JSON): e.g. edited by hand or a bad import.
    Subscriber.objects.filter(email="bob@example.org").update(keywords=5)
    stats = Sender().run_once()
    assert (stats.sent, stats.failed) == (1, 1)
    failed = Delivery.objects.get(state=State.FAILED)
    assert failed.subscriber.email == "bob@example.org" and "could not build" in failed.last_error


def test_a_time_zone_that_no_longer_exists_falls_back_to_utc(smtp_server, papers):
    make_subscriber("ada@example.org")
    Subscriber.objects.update(time_zone="Atlantis/Capital")
    assert Sender().run_once().sent == 1
    assert Subscriber.objects.get().next_send_at == dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)


def test_senddigests_refuses_to_pretend_without_an_smtp_server(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with pytest.raises(CommandError, match="PAPERFEED_SMTP_HOST is unset"):
        call_command("senddigests")
