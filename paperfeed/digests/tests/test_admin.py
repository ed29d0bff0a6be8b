"""In-doubt digests in the admin: listed, and settled by an operator."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from paperfeed.digests.models import Delivery
from paperfeed.digests.tests.factories import make_subscriber

pytestmark = pytest.mark.django_db
State = Delivery.State


def _in_doubt(email: str) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(subscriber=make_subscriber(email), edition="daily:2026-11-23",
                                   state=State.IN_DOUBT, due_at=now, next_attempt_at=now,
                                   sending_at=now - dt.timedelta(hours=1), attempts=1)


def test_the_admin_lists_in_doubt_digests_and_settles_them(admin_client):
    kept, again = _in_doubt("ada@example.org"), _in_doubt("bob@example.org")
    sent = Delivery.objects.create(subscriber=make_subscriber("cy@example.org"), edition="daily:2026-11-23",
                                   state=State.SENT, due_at=timezone.now(), next_attempt_at=timezone.now())
    url = reverse("admin:digests_delivery_changelist")
    page = admin_client.get(url, {"state__exact": "in_doubt"}).content.decode()
    assert "ada@example.org" in page and "bob@example.org" in page and "cy@example.org" not in page

    admin_client.post(url, {"action": "mark_sent", "_selected_action": [kept.pk, sent.pk]})
    admin_client.post(url, {"action": "resend", "_selected_action": [again.pk]})
    kept.refresh_from_db(), again.refresh_from_db(), sent.refresh_from_db()
    assert (kept.state, again.state, sent.state) == (State.SENT, State.PENDING, State.SENT)
    assert kept.resolution.endswith(": sent") and again.resolution.endswith(": resend")
