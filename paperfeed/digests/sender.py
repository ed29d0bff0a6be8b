"""Sending digests exactly once, or saying honestly that one is in doubt.

The ledger (:class:`~paperfeed.digests.models.Delivery`, unique per subscriber and edition)
moves each digest through these states::

    pending ──claim──▶ claimed ──▶ sending ──SMTP accepted──▶ sent
       ▲                  │           ├── 4xx / refused connection ──▶ pending (later) … failed
       └── lease expired ─┘           ├── 5xx ──▶ failed (address marked on 5xx to RCPT)
                                      └── lost connection / found by a later run ──▶ in_doubt

* **claim**: one transaction picks due rows and marks them ``claimed`` with this sender's
  id (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the IMMEDIATE
  transaction holds the write lock, which serialises claimers). A claimed row has not been
  handed to SMTP, so if its sender dies another takes it over once the lease runs out.
* **sending** is committed, by a conditional UPDATE that only succeeds while this sender
  still owns the row, *before* the message goes to SMTP; **sent** is committed right after
  the server accepts it. Between the two lies the one window no database can close: a
  sender killed there leaves a row in ``sending``. A later run finds it (older than the
  lease), marks it ``in_doubt`` and never resends it on its own: ``paperfeed senddigests
  --report-in-doubt`` and the admin list them for an operator.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, fields

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from paperfeed.digests import schedule
from paperfeed.digests.emails import digest_message, subscriber_links
from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.digests.selection import BatchContext, pick_papers

log = logging.getLogger("paperfeed.digests")
State = Delivery.State


@dataclass
class RunStats:
    scheduled: int = 0
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0
    bounced: int = 0
    in_doubt: int = 0  # rows this run put in doubt (found stale in "sending", or lost connection)
    lost_lease: int = 0

    def add(self, other: RunStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        return ", ".join(f"{f.name.replace('_', ' ')} {getattr(self, f.name)}" for f in fields(self))


def schedule_due(now: dt.datetime, batch_size: int) -> int:
    """Create the ledger rows of every subscriber whose send slot has come; returns how many
    subscribers were due.

    A subscriber whose sender was down for days gets the current edition only, not a backlog.
    Running this twice at once is harmless: the unique constraint drops the second row.
    """
    due_count = 0
    batch_size = max(batch_size, 1000)  # cheap rows: fewer, larger transactions
    while True:
        with transaction.atomic():
            # Read and write in one transaction, rows locked (PostgreSQL, SKIP LOCKED) or the
            # database write-locked (SQLite, IMMEDIATE): two senders split the due
            # subscribers instead of both scheduling all of them. No ORDER BY: the
            # (status, next_send_at) index finds due rows without sorting them all.
            due = list(Subscriber.objects.due(now).select_for_update(skip_locked=True)
                       .values_list("pk", "cadence", "send_hour", "weekday", "time_zone")[:batch_size])
            if not due:
                return due_count
            rows = []
            next_slots: dict[dt.datetime, list[int]] = defaultdict(list)
            for pk, *rule_fields in due:
                rule = schedule.SlotRule(*rule_fields)
                slot = schedule.latest_slot(rule, now)
                rows.append(Delivery(subscriber_id=pk, edition=schedule.edition(rule, slot),
                                     due_at=slot, next_attempt_at=now))
                next_slots[schedule.next_slot(rule, now)].append(pk)
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            # Subscribers share a few dozen next slots (time zone x hour): one UPDATE each.
            for next_at, pks in next_slots.items():
                Subscriber.objects.filter(pk__in=pks).update(next_send_at=next_at)
        due_count += len(due)


# The two writes every digest makes, as plain SQL: they run 200,000 times for 100,000
# digests, and building them through the ORM cost more than executing them.
_D, _S = Delivery._meta.db_table, Subscriber._meta.db_table
# The Message-ID is recorded with "sending", before SMTP, so that a row left in doubt names
# the message to look up in the SMTP server's log.
_TO_SENDING = (f"UPDATE {_D} SET state = %s, sending_at = %s, attempts = attempts + 1, "
               f"message_id = %s WHERE id = %s AND state = %s AND claimed_by = %s")
_TO_SENT = (f"UPDATE {_D} SET state = %s, finished_at = %s, paper_count = %s, through_day = %s "
            f"WHERE id = %s AND state IN (%s, %s)")
_SEEN_THROUGH = f"UPDATE {_S} SET seen_through = %s WHERE id = %s"


def _execute(sql: str, params: list) -> int:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _at(moment: dt.datetime):
    return db.ops.adapt_datetimefield_value(moment)


def _smtp_code(exc: smtplib.SMTPException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


@dataclass
class _Prepared:
    delivery: Delivery
    message: object
    paper_count: int
    through_day: dt.date | None

    @property
    def message_id(self) -> str:
        return self.message.extra_headers["Message-ID"]


class _DataWatch:
    """Whether the current message reached SMTP's DATA on an open ``smtplib.SMTP``.

    Until DATA the server holds nothing of the message (MAIL FROM and RCPT TO only name
    the envelope), so a connection that breaks there — typically a server that dropped
    the connection while it sat idle between two messages, which smtplib reports as
    ``SMTPServerDisconnected`` at MAIL FROM — is safe to reconnect and resend. From DATA
    on, the server may have taken the message: in doubt.
    """

    def __init__(self, smtp: smtplib.SMTP):
        self.reached = False
        data = smtp.data

        def watched(msg):
            self.reached = True
            return data(msg)

        smtp.data = watched

    @classmethod
    def on(cls, smtp: smtplib.SMTP) -> _DataWatch:
        watch = smtp.__dict__.get("_paperfeed_watch")
        if watch is None:
            watch = smtp._paperfeed_watch = cls(smtp)
        watch.reached = False
        return watch


@dataclass
class Sender:
    batch_size: int = field(default_factory=lambda: settings.DIGESTS["BATCH_SIZE"])
    lease: dt.timedelta = field(
        default_factory=lambda: dt.timedelta(seconds=settings.DIGESTS["LEASE_SECONDS"]))
    retry_seconds: int = field(default_factory=lambda: settings.DIGESTS["RETRY_SECONDS"])
    max_attempts: int = field(default_factory=lambda: settings.DIGESTS["MAX_ATTEMPTS"])
    worker: str = field(
        default_factory=lambda: f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    # -- one round ---------------------------------------------------------------------

    def run_once(self) -> RunStats:
        """Schedule what is due, flag stale "sending" rows, then claim and send until done."""
        stats = RunStats()
        stats.scheduled = schedule_due(timezone.now(), self.batch_size)
        stats.in_doubt += self.flag_in_doubt()
        context = BatchContext.build(timezone.now())  # shared by every batch of this round
        while ids := self.claim():
            stats.add(self.send_batch(ids, context))
        return stats

    def flag_in_doubt(self) -> int:
        # A row still "sending" after the lease belongs to a sender that died between handing
        # the message to SMTP and recording the answer: it may have gone out. Never resend it.
        stale = timezone.now() - self.lease
        flagged = Delivery.objects.filter(state=State.SENDING, sending_at__lt=stale).update(
            state=State.IN_DOUBT, last_error="sender stopped while handing this digest to SMTP")
        if flagged:
            log.warning("%d digest(s) in doubt: see paperfeed senddigests --report-in-doubt", flagged)
        return flagged

    def claim(self) -> list[int]:
        now = timezone.now()
        with transaction.atomic():
            # Two simple queries rather than one with OR: each walks the (state, …) index
            # instead of sorting every pending row for each batch.
            ids: list[int] = []
            for rows in (Delivery.objects.ready(now), Delivery.objects.abandoned(now, self.lease)):
                if len(ids) < self.batch_size:
                    ids += rows.select_for_update(skip_locked=True).values_list(
                        "pk", flat=True)[:self.batch_size - len(ids)]
            if ids:
                # Conditional, so that even without row locks a row can only be claimed once.
                stale = now - self.lease
                (Delivery.objects.filter(pk__in=ids)
                 .filter(Q(state=State.PENDING) | Q(state=State.CLAIMED, claimed_at__lt=stale))
                 .update(state=State.CLAIMED, claimed_by=self.worker, claimed_at=now))
        return ids

    # -- one batch ---------------------------------------------------------------------

    def _mine(self, pk: int):
        return Delivery.objects.filter(pk=pk, state=State.CLAIMED, claimed_by=self.worker)

    def prepare(self, ids: list[int], stats: RunStats, connection=None,
                context: BatchContext | None = None) -> list[_Prepared]:
        """Build this batch's messages; settle the ones with nothing to send."""
        context = context or BatchContext.build(timezone.now())
        deliveries = (Delivery.objects.filter(pk__in=ids, state=State.CLAIMED, claimed_by=self.worker)
                      .select_related("subscriber").order_by("pk"))
        prepared, cancelled, skipped = [], [], []
        for delivery in deliveries:
            subscriber = delivery.subscriber
            if subscriber.status != Subscriber.Status.ACTIVE:
                cancelled.append(delivery.pk)
                continue
            try:
                selection = pick_papers(subscriber, delivery.edition, context)
                if not selection.papers:
                    skipped.append(delivery.pk)
                    continue
                message = digest_message(subscriber, delivery.edition, selection.papers, connection,
                                         subscriber_links(subscriber), context.blocks)
            except Exception as exc:  # noqa: BLE001 — one broken digest must not stall the queue
                log.exception("could not build digest %s", delivery.pk)
                self._mine(delivery.pk).update(state=State.FAILED, finished_at=timezone.now(),
                                               last_error=f"could not build: {exc!r}"[:2000])
                stats.failed += 1
                continue
            prepared.append(_Prepared(delivery, message, len(selection.papers), selection.through_day))
        now = timezone.now()
        claimed = Delivery.objects.filter(state=State.CLAIMED, claimed_by=self.worker)
        stats.cancelled += claimed.filter(pk__in=cancelled).update(state=State.CANCELLED, finished_at=now)
        stats.skipped += claimed.filter(pk__in=skipped).update(state=State.SKIPPED, finished_at=now)
        return prepared

    def send_batch(self, ids: list[int], context: BatchContext | None = None) -> RunStats:
        stats = RunStats()
        connection = get_connection(fail_silently=False)
        prepared = self.prepare(ids, stats, connection, context)
        try:
            for item in prepared:
                if connection.connection is None:
                    try:
                        connection.open()
                    except OSError as exc:  # nothing was handed over: safe to retry later
                        for rest in prepared[prepared.index(item):]:
                            self._retry_later(rest.delivery, str(exc), stats, attempted=False)
                        break
                self._send_one(item, connection, stats)
        finally:
            connection.close()
        return stats

    def _send_one(self, item: _Prepared, connection, stats: RunStats) -> None:
        delivery = item.delivery
        # Committed before SMTP: if this process dies from here on, the row says "sending"
        # and names the Message-ID to look for.
        if not _execute(_TO_SENDING, [State.SENDING, _at(timezone.now()), item.message_id,
                                      delivery.pk, State.CLAIMED, self.worker]):
            stats.lost_lease += 1  # another sender took the row over after our lease ran out
            return
        delivery.attempts += 1
        for reconnected in (False, True):
            watch = _DataWatch.on(connection.connection)
            try:
                connection.send_messages([item.message])
            except smtplib.SMTPResponseException as exc:
                self._refused(delivery, _smtp_code(exc), str(exc), stats, recipient=False)
                connection.close()
            except smtplib.SMTPRecipientsRefused as exc:
                self._refused(delivery, _smtp_code(exc), str(exc.recipients), stats, recipient=True)
            except OSError as exc:
                connection.close()
                if watch.reached:
                    # The connection broke mid-message: the server may have taken it.
                    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
                        state=State.IN_DOUBT, last_error=f"connection lost during SMTP: {exc!r}"[:2000])
                    stats.in_doubt += 1
                elif reconnected or not self._reopen(connection):
                    self._retry_later(delivery, f"connection lost before DATA: {exc!r}", stats,
                                      attempted=True)
                else:
                    continue  # nothing was handed over: reconnect and send it again, once
            else:
                through = db.ops.adapt_datefield_value(item.through_day)
                with transaction.atomic():
                    _execute(_TO_SENT, [State.SENT, _at(timezone.now()), item.paper_count, through,
                                        delivery.pk, State.SENDING, State.IN_DOUBT])
                    _execute(_SEEN_THROUGH, [through, delivery.subscriber_id])
                stats.sent += 1
            return

    @staticmethod
    def _reopen(connection) -> bool:
        try:
            connection.open()
        except OSError:
            return False
        return connection.connection is not None

    def _refused(self, delivery: Delivery, code: int | None, error: str, stats: RunStats,
                 recipient: bool) -> None:
        if code is not None and 400 <= code < 500:
            self._retry_later(delivery, error, stats, attempted=True)
            return
        now = timezone.now()
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk).update(
                state=State.FAILED, finished_at=now, last_error=error[:2000])
            if recipient:
                # The address itself is refused for good: stop mailing it.
                Subscriber.objects.filter(pk=delivery.subscriber_id).update(
                    status=Subscriber.Status.BOUNCED, bounce_reason=error[:2000], next_send_at=None,
                    generation=F("generation") + 1)
                stats.bounced += 1
        stats.failed += 1

    def _retry_later(self, delivery: Delivery, error: str, stats: RunStats, attempted: bool) -> None:
        attempts = delivery.attempts if attempted else delivery.attempts + 1
        source = (Delivery.objects.filter(pk=delivery.pk, state=State.SENDING) if attempted
                  else self._mine(delivery.pk))
        if attempts >= self.max_attempts:
            source.update(state=State.FAILED, finished_at=timezone.now(), attempts=attempts,
                          last_error=error[:2000])
            stats.failed += 1
            return
        delay = dt.timedelta(seconds=self.retry_seconds * 2 ** (attempts - 1))
        source.update(state=State.PENDING, next_attempt_at=timezone.now() + delay, attempts=attempts,
                      claimed_by="", last_error=error[:2000])
        stats.retrying += 1


def resolve_in_doubt(pk: int, outcome: str, note: str = "") -> Delivery:
    """An operator's decision on an in-doubt digest: ``sent`` (leave it) or ``resend``."""
    delivery = Delivery.objects.get(pk=pk, state=State.IN_DOUBT)
    if outcome == "sent":
        delivery.state = State.SENT
        delivery.finished_at = timezone.now()
    elif outcome == "resend":
        delivery.state = State.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.claimed_by = ""
    else:
        raise ValueError("outcome must be 'sent' or 'resend'")
    delivery.resolution = (note or f"operator: {outcome}")[:200]
    delivery.save(update_fields=["state", "finished_at", "next_attempt_at", "claimed_by", "resolution"])
    return delivery
