"""Subscribers to the e-mail digest and the delivery ledger that makes each digest go out once."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from paperfeed.digests import schedule


def validate_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name!r} is not a known time zone (e.g. Europe/Paris).") from exc


class SubscriberQuerySet(models.QuerySet):
    def active(self) -> SubscriberQuerySet:
        return self.filter(status=Subscriber.Status.ACTIVE)

    def due(self, now: dt.datetime) -> SubscriberQuerySet:
        return self.active().filter(next_send_at__lte=now)


class Subscriber(models.Model):
    """One e-mail address. Works without an account; ``user`` links one when there is."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Subscribed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Address rejected by its mail server"

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    email = models.EmailField(max_length=254, unique=True)  # stored lower-cased
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="digest_subscriptions",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Bumped whenever the address stops getting digests (unsubscribed, bounced): a
    # confirmation link carries the generation it was sent in and is refused once it is
    # older, so stopping wins over every link sent before; only a new opt-in (a new link)
    # can undo it.
    generation = models.PositiveIntegerField(default=0, editable=False)
    # Link e-mails (confirm / manage) sent in the current window, for the per-address limit.
    link_mail_window = models.BigIntegerField(default=0)
    link_mails = models.PositiveSmallIntegerField(default=0)

    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.DAILY)
    weekday = models.PositiveSmallIntegerField(
        default=0, choices=list(enumerate(schedule.WEEKDAYS)),
        help_text="Day of the week weekly digests go out.",
    )
    send_hour = models.PositiveSmallIntegerField(
        default=8, choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text="Local hour the digest goes out.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    max_papers = models.PositiveSmallIntegerField(default=10)
    include_trending = models.BooleanField(default=True)
    keywords = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    authors = models.JSONField(default=list, blank=True)

    # Scheduling state: when the next edition is due (UTC), and the newest feed day a sent
    # digest covered, so the next one only holds papers that are new since.
    next_send_at = models.DateTimeField(null=True, blank=True)
    seen_through = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.TextField(blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "next_send_at"], name="digest_sub_due_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def has_topics(self) -> bool:
        return bool(self.keywords or self.categories or self.authors)

    def reschedule(self, now: dt.datetime) -> None:
        """Set ``next_send_at`` to this subscriber's first send slot after ``now``."""
        if self.status == self.Status.ACTIVE:
            self.next_send_at = schedule.next_slot(self.slot_rule, now)
        else:
            self.next_send_at = None

    @property
    def slot_rule(self) -> schedule.SlotRule:
        return schedule.SlotRule(self.cadence, self.send_hour, self.weekday, self.time_zone)


class DeliveryQuerySet(models.QuerySet):
    def ready(self, now: dt.datetime) -> DeliveryQuerySet:
        """Pending rows whose time has come, oldest first (served by the state index)."""
        return self.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk")

    def abandoned(self, now: dt.datetime, lease: dt.timedelta) -> DeliveryQuerySet:
        # Claimed rows whose lease ran out belonged to a sender that died (or stalled) before
        # it marked them "sending": nothing was handed to SMTP, so they are safe to take over.
        return self.filter(state=Delivery.State.CLAIMED, claimed_at__lt=now - lease).order_by("pk")

    def in_doubt(self) -> DeliveryQuerySet:
        return self.filter(state=Delivery.State.IN_DOUBT)

    def unfinished(self) -> DeliveryQuerySet:
        return self.filter(state__in=Delivery.UNFINISHED)


class Delivery(models.Model):
    """The ledger: one row per (subscriber, edition); the unique constraint is the guarantee."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed by a sender"
        SENDING = "sending", "Being handed to SMTP"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Nothing new to send"
        CANCELLED = "cancelled", "Cancelled (unsubscribed)"
        FAILED = "failed", "Failed"
        IN_DOUBT = "in_doubt", "In doubt"

    UNFINISHED = (State.PENDING, State.CLAIMED, State.SENDING)

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    edition = models.CharField(max_length=32)  # "daily:2026-11-23" or "weekly:2026-W48"
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    paper_count = models.PositiveSmallIntegerField(default=0)
    through_day = models.DateField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    resolution = models.CharField(max_length=200, blank=True)  # an operator's note on in-doubt rows

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "edition"], name="unique_digest_delivery")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="digest_delivery_work_idx")]

    def __str__(self) -> str:
        return f"{self.edition} to {self.subscriber_id} ({self.state})"
