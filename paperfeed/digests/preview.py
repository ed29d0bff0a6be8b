"""What a run would send now, built without writing anything (``senddigests --dry-run``)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from paperfeed.digests import schedule
from paperfeed.digests.emails import digest_message
from paperfeed.digests.models import Delivery, Subscriber
from paperfeed.digests.selection import BatchContext, pick_papers


def preview_messages() -> list[EmailMultiAlternatives]:
    now = timezone.now()
    context = BatchContext.build(now)
    pairs: dict[tuple[int, str], Subscriber] = {}
    # Rows already in the ledger and waiting, then subscribers whose slot has come.
    waiting = (Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now,
                                       subscriber__status=Subscriber.Status.ACTIVE)
               .select_related("subscriber"))
    for delivery in waiting:
        pairs[(delivery.subscriber_id, delivery.edition)] = delivery.subscriber
    due = list(Subscriber.objects.due(now))
    recorded = set(Delivery.objects.filter(subscriber__in=due).values_list("subscriber_id", "edition"))
    for subscriber in due:
        rule = subscriber.slot_rule
        key = (subscriber.pk, schedule.edition(rule, schedule.latest_slot(rule, now)))
        if key not in recorded:
            pairs.setdefault(key, subscriber)
    messages = []
    for (_, edition), subscriber in pairs.items():
        selection = pick_papers(subscriber, edition, context)
        if selection.papers:
            messages.append(digest_message(subscriber, edition, selection.papers))
    return messages
