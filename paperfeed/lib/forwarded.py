"""Whom to believe about the client: the socket peer, or the reverse proxies in front.

``PAPERFEED_PROXY_COUNT`` says how many proxies stand in front of paperfeed, each
appending the address it saw to ``X-Forwarded-For``. The client is then the Nth entry
from the right: everything further left was written by the client itself and can be
anything. This module is the one place that decides it, for every rate limit
(sign-in, votes, comments, sign-ups, subscriptions, the API) and for the logs; the
scheme (``X-Forwarded-Proto``) follows the same setting in ``settings.py``.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

from django.conf import settings

log = logging.getLogger("paperfeed.proxy")


def _as_address(entry: str) -> str | None:
    """``entry`` as a bare IP address (brackets and ports dropped), or None."""
    entry = entry.strip().strip('"')
    if entry.startswith("["):  # [2001:db8::1]:443
        entry = entry[1:].split("]", 1)[0]
    elif entry.count(":") == 1:  # 192.0.2.1:5678
        entry = entry.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None


def forwarded_client(remote_addr: str, forwarded_for: str, proxy_count: int) -> str:
    """The client address behind ``proxy_count`` proxies (pure; see :func:`client_address`).

    With fewer ``X-Forwarded-For`` entries than proxies, or an entry that is not an
    address, the peer's own address is used and a warning logged: the proxies do not
    append what the setting says, and guessing further left would trust the client.
    """
    peer = remote_addr or "unknown"
    if proxy_count <= 0:
        return peer
    entries = [e for e in forwarded_for.split(",") if e.strip()]
    if len(entries) < proxy_count:
        if entries or proxy_count > 1:
            log.warning("X-Forwarded-For %r has fewer than PAPERFEED_PROXY_COUNT=%d entries; "
                        "using the peer address %s", forwarded_for, proxy_count, peer)
        return peer
    entry = entries[-proxy_count]
    address = _as_address(entry)
    if address is None:
        log.warning("X-Forwarded-For entry %d from the right (%r) is not an IP address; "
                    "using the peer address %s (check PAPERFEED_PROXY_COUNT and the proxy)",
                    proxy_count, entry.strip()[:100], peer)
        return peer
    return address


def client_address(request_or_meta) -> str:
    """The visitor's address for ``request`` (or a WSGI environ / ``request.META``)."""
    meta: Mapping[str, str] = getattr(request_or_meta, "META", request_or_meta)
    return forwarded_client(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""),
                            settings.PROXY_COUNT)
