"""Accounts' extra state, votes, submissions, comments, moderation and rate-limit counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperfeed.papers.models import Paper


class Profile(models.Model):
    """What Django's user lacks: a verified e-mail and a short public bio."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="community_profile")
    email_verified_at = models.DateTimeField(null=True, blank=True)
    bio = models.TextField(blank=True, max_length=500)

    def __str__(self) -> str:
        return f"profile of {self.user}"

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None


class Vote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The database, not the view, guarantees one vote per account per paper:
            # two concurrent clicks race to this constraint and one of them loses.
            models.UniqueConstraint(fields=["user", "paper"], name="one_vote_per_user_paper"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="vote_user_recent_idx")]

    def __str__(self) -> str:
        return f"{self.user} ▲ {self.paper_id}"


class Submission(models.Model):
    """A paper a member brought into the daily feed; one per paper."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="submission")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="submissions")
    created_at = models.DateTimeField(default=timezone.now)
    feed_date = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="submission_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.paper_id} submitted by {self.user}"


class CommentQuerySet(models.QuerySet):
    def shown(self) -> CommentQuerySet:
        return self.filter(hidden=False, deleted=False)


class Comment(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="comments")
    # Comments are never removed from a thread (only blanked), so replies keep their place.
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="replies")
    body = models.TextField(max_length=10_000)
    body_html = models.TextField(editable=False)  # sanitised rendering of ``body``
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=500, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["paper", "created_at"], name="comment_paper_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.paper_id}"

    @property
    def shown(self) -> bool:
        """Counted in ``Paper.comments_local`` and displayed to everyone."""
        return not (self.hidden or self.deleted)


class ModerationAction(models.Model):
    """The log of what curators did, to what, and why. Rows outlive their subjects."""

    class Kind(models.TextChoices):
        FEATURE = "feature", "Featured a paper"
        UNFEATURE = "unfeature", "Unfeatured a paper"
        HIDE_PAPER = "hide-paper", "Hid a paper"
        WITHDRAW_PAPER = "withdraw-paper", "Withdrew a paper"
        RESTORE_PAPER = "restore-paper", "Restored a paper"
        HIDE_COMMENT = "hide-comment", "Hid a comment"
        RESTORE_COMMENT = "restore-comment", "Restored a comment"
        BLOCK_USER = "block-user", "Blocked a user"
        UNBLOCK_USER = "unblock-user", "Unblocked a user"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="moderation_actions")
    actor_name = models.CharField(max_length=150)  # kept if the curator's account goes
    kind = models.CharField(max_length=32, choices=Kind.choices)
    paper = models.ForeignKey(Paper, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    subject_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    target = models.CharField(max_length=300)  # what it was done to, in words
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("moderate", "Can moderate papers, comments and users")]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.get_kind_display()} {self.target}"


class Throttle(models.Model):
    """Hits per (scope, key, fixed window): rate limits shared by every web process."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    window = models.BigIntegerField()  # start of the window, seconds since the epoch
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "window"], name="unique_throttle")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}@{self.window}={self.hits}"
