"""Fixed-window rate limiting for anonymous API clients, counted in the database.

A counter in process memory would let each of several web processes grant the full
allowance; a row per (client, window) shared through the database holds across all of
them, on SQLite and PostgreSQL alike, with no extra service to run.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from paperfeed.api.models import RateBucket
from paperfeed.lib.forwarded import client_address


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the current window ends


def client_key(request) -> str:
    address = client_address(request)
    # Hashed: the table only needs to tell clients apart, not to know who they are.
    return hashlib.sha256(address.encode()).hexdigest()[:32]


def hit(client: str, *, now: float | None = None) -> Verdict | None:
    """Count one request by ``client``; ``None`` when rate limiting is off."""
    limit = settings.PAPERFEED["API_RATE_LIMIT"]
    if limit <= 0:
        return None
    length = max(settings.PAPERFEED["API_RATE_WINDOW"], 1)
    now = time.time() if now is None else now
    window = int(now // length)
    with transaction.atomic():
        bucket = RateBucket.objects.filter(client=client, window=window)
        # The UPDATE is atomic in the database, so concurrent processes never lose a count.
        if not bucket.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateBucket.objects.create(client=client, window=window, count=1)
            except IntegrityError:  # another process created it first
                bucket.update(count=F("count") + 1)
            else:
                # A new window began for this client: drop everyone's finished windows.
                RateBucket.objects.filter(window__lt=window).delete()
        count = bucket.values_list("count", flat=True).get()
    retry_after = max(1, math.ceil((window + 1) * length - now))
    return Verdict(count <= limit, limit, max(limit - count, 0), retry_after)
