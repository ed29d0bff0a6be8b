"""Rate limits per account and per IP, counted in the database.

Counters live in the ``Throttle`` table rather than in process memory, so every web
process (and every worker behind a load balancer) sees the same count. Windows are
fixed (``window_start``): simple, one row per key and window, and at worst twice the
rate across a window boundary, which is fine for abuse control.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest

from paperfeed.community.models import Throttle
from paperfeed.lib.forwarded import client_address
from paperfeed.lib.rates import Rate, window_start

_WORDS = {"votes": "votes", "comments": "comments", "submissions": "submission attempts",
          "signups": "sign-ups and password resets", "failed_logins": "failed sign-ins"}


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int  # seconds


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: see :func:`paperfeed.lib.forwarded.client_address`."""
    return client_address(request)


def _hit(scope: str, key: str, rate: Rate, now: float) -> int:
    """Count one hit and return the window's total so far."""
    window = window_start(now, rate)
    rows = Throttle.objects.filter(scope=scope, key=key, window=window)
    with transaction.atomic():
        if not rows.update(hits=F("hits") + 1):
            try:
                with transaction.atomic():
                    Throttle.objects.create(scope=scope, key=key, window=window, hits=1)
                # A new window: the old ones of this key are no use any more.
                Throttle.objects.filter(scope=scope, key=key, window__lt=window).delete()
            except IntegrityError:
                # Another process created the row between our UPDATE and INSERT.
                rows.update(hits=F("hits") + 1)
        return rows.values_list("hits", flat=True).get()


def count(scope: str, key: str, rate: Rate, *, now: float | None = None) -> int:
    """Count one hit of ``key`` in ``scope`` (for other apps' limits); the window's total."""
    return _hit(scope, key, rate, time.time() if now is None else now)


def retry_after(rate: Rate, *, now: float | None = None) -> int:
    """Seconds until the current window of ``rate`` ends."""
    now = time.time() if now is None else now
    return window_start(now, rate) + rate.seconds - int(now)


def over_limit(request: HttpRequest, action: str, *, now: float | None = None) -> Refusal | None:
    """Like :func:`check` for the IP limit, without counting a hit (for failed sign-ins,
    which are counted only once they have failed)."""
    now = time.time() if now is None else now
    rate = settings.COMMUNITY[f"RATE_{action.upper()}_PER_IP"]
    hits = Throttle.objects.filter(scope=f"{action}:ip", key=client_ip(request),
                                   window=window_start(now, rate)).values_list("hits", flat=True)
    if (hits.first() or 0) >= rate.limit:
        return _refusal(action, "your network address", rate, now)
    return None


def _refusal(action: str, who: str, rate: Rate, now: float) -> Refusal:
    retry = retry_after(rate, now=now)
    return Refusal(f"Too many {_WORDS.get(action, action)} from {who} (the limit is {rate}). "
                   f"Please try again in {_duration(retry)}.", retry)


def check(request: HttpRequest, action: str, *, now: float | None = None,
          user: AbstractBaseUser | None = None) -> Refusal | None:
    """Count ``action`` (votes, comments, submissions, signups) for this account and IP.

    The account is ``user`` if given (an API token's), else the session's member.
    Returns None when allowed, else a :class:`Refusal` saying why and for how long.
    """
    now = time.time() if now is None else now
    limits: list[tuple[str, str, Rate]] = []
    user = user if user is not None else getattr(request, "user", None)
    per_user = settings.COMMUNITY.get(f"RATE_{action.upper()}")
    if per_user is not None and user is not None and user.is_authenticated:
        limits.append((f"{action}:user", str(user.pk), per_user))
    limits.append((f"{action}:ip", client_ip(request),
                   settings.COMMUNITY[f"RATE_{action.upper()}_PER_IP"]))
    for scope, key, rate in limits:
        if _hit(scope, key, rate, now) > rate.limit:
            who = "this account" if scope.endswith(":user") else "your network address"
            return _refusal(action, who, rate, now)
    return None


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 5400:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"
