"""Signed links in e-mails: confirm a subscription, manage it, unsubscribe.

Tokens carry the subscriber's id and address, signed with the secret key and a salt per
purpose, so a link from one e-mail cannot be turned into another kind of link, and a link
stops working if its row is deleted and the id reused for another address. Confirmation
links expire; manage/unsubscribe links must keep working for as long as old e-mails are
read (RFC 8058 expects the List-Unsubscribe URL to stay valid).

Unsubscribing wins over every earlier link: a confirmation link also carries the
subscriber's ``generation``, which unsubscribing (or a bounce) bumps, so an old link
cannot subscribe the address again. Manage links never subscribe anyone by themselves
(their "subscribe again" sends a new confirmation link), and unsubscribe links only stop
mail, so those two stay valid across generations.
"""

from __future__ import annotations

from django.core import signing

from paperfeed.digests.models import Subscriber

CONFIRM_MAX_AGE = 7 * 24 * 3600
_CONFIRM_SALT = "paperfeed.digests.confirm"
_MANAGE_SALT = "paperfeed.digests.manage"


def _payload(subscriber: Subscriber) -> dict:
    return {"s": subscriber.pk, "e": subscriber.email}


def confirm_token(subscriber: Subscriber) -> str:
    payload = {**_payload(subscriber), "g": subscriber.generation}
    return signing.dumps(payload, salt=_CONFIRM_SALT, compress=True)


def manage_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=_MANAGE_SALT).sign_object(_payload(subscriber))


def _subscriber(payload: object) -> Subscriber | None:
    if not isinstance(payload, dict):
        return None
    return Subscriber.objects.filter(pk=payload.get("s"), email=payload.get("e")).first()


def subscriber_from_confirm_token(token: str) -> Subscriber | None:
    """The subscriber, or None for a forged, expired or stale token (one sent before the
    address was last unsubscribed or bounced)."""
    try:
        payload = signing.loads(token, salt=_CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a subclass
        return None
    subscriber = _subscriber(payload)
    if subscriber is None or payload.get("g", 0) != subscriber.generation:
        return None
    return subscriber


def subscriber_from_manage_token(token: str) -> Subscriber | None:
    try:
        payload = signing.Signer(salt=_MANAGE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return _subscriber(payload)
