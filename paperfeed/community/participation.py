"""May this member vote, comment or submit right now? One answer for pages and the API.

The web views act for the session's member and the JSON API for an API token's; both
ask here, so a token gets the same e-mail check and the same per-account and per-IP
limits as the browser (the request is only read for the client's address).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from paperfeed.community import accounts, ratelimit


@dataclass(frozen=True)
class Refusal:
    message: str
    status: int  # 403: not allowed yet; 429: too many, try later
    retry_after: int | None = None


def refusal(request: HttpRequest, user: AbstractBaseUser, action: str) -> Refusal | None:
    """None if ``user`` may ``action`` (votes, comments, submissions) now; counts the try."""
    if not accounts.is_verified(user):
        return Refusal("Please confirm your e-mail address first: use the link we sent you, "
                       "or ask for a new one on your account page.", 403)
    limited = ratelimit.check(request, action, user=user)
    if limited is not None:
        return Refusal(limited.message, 429, limited.retry_after)
    return None
