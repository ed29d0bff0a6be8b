"""API tokens for signed-in clients, and the counters behind anonymous rate limiting."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "pf_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def issue(self, user, name: str = "") -> tuple[ApiToken, str]:
        """Create a token; the raw value is returned once and only its hash is stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name, key_hash=hash_token(raw), prefix=raw[:10])
        return token, raw

    def authenticate(self, raw: str) -> ApiToken | None:
        if not raw.startswith(TOKEN_PREFIX):
            return None
        token = self.select_related("user").filter(key_hash=hash_token(raw)).first()
        if token is None or not token.user.is_active:
            return None
        return token


class ApiToken(models.Model):
    """A bearer token (``Authorization: Bearer pf_...``) acting for one user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    # Only a hash is kept, so a leaked database does not leak usable tokens.
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=10)  # shown in lists so users can tell tokens apart
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"


class RateBucket(models.Model):
    """Requests one client made in one fixed time window.

    Kept in the database (not process memory) so the limit holds across several web
    processes; rows of past windows are deleted as new windows start.
    """

    client = models.CharField(max_length=64)
    window = models.BigIntegerField(db_index=True)  # unix time // window length
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "window"], name="unique_rate_bucket")
        ]

    def __str__(self) -> str:
        return f"{self.client}@{self.window}: {self.count}"


class FeedVersion(models.Model):
    """When a feed (by its exact URL) first sent the body it sends now.

    A feed's body changes without any row's ``updated_at`` changing (a vote, a paper
    leaving the trending list), so its ``Last-Modified`` cannot be read from the rows;
    instead the ETag of each new body is remembered with the moment it was first seen.
    """

    key = models.CharField(max_length=64, unique=True)  # sha256 of the path and query
    etag = models.CharField(max_length=100)
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key[:12]}… {self.etag} since {self.since:%Y-%m-%d %H:%M:%S}"
