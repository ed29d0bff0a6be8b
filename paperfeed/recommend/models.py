"""What the recommender knows about a member beyond their upvotes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperfeed.papers.models import Paper


class Interest(models.Model):
    """A topic a member follows: an arXiv category, a keyword or an author."""

    class Kind(models.TextChoices):
        CATEGORY = "category", "arXiv category"
        KEYWORD = "keyword", "Keyword"
        AUTHOR = "author", "Author"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "value"], name="unique_interest")]
        ordering = ["kind", "value"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class Feedback(models.Model):
    """A member's signal about one paper, other than an upvote."""

    class Kind(models.TextChoices):
        SAVED = "saved", "Saved"
        LIBRARY = "library", "In my library"
        NOT_INTERESTED = "not_interested", "Not interested"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paper_feedback")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper", "kind"], name="unique_feedback")]
        indexes = [models.Index(fields=["user", "kind"], name="feedback_user_kind_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.paper_id}"


class UserModelState(models.Model):
    """A member's trained model, kept until the papers it was trained on change."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)  # digest of the papers it learned from
    data = models.BinaryField()
    trained_at = models.DateTimeField(default=timezone.now)
    # The daily job's cursor: stored recommendations cover feed days up to scored_through,
    # computed with this model and these topics (scored_signature); later rounds score
    # only newer papers while both still hold.
    scored_through = models.DateField(null=True, blank=True)
    scored_signature = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"model of {self.user}"


class Recommendation(models.Model):
    """The daily job's output: a member's best new papers, with the reason shown."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reason = models.CharField(max_length=400)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="unique_recommendation")]
        indexes = [models.Index(fields=["user", "-score"], name="recommendation_user_idx")]

    def __str__(self) -> str:
        return f"{self.paper_id} for {self.user} ({self.score:.2f})"


class PrivateFeed(models.Model):
    """The secret in a member's private feed URL; replacing it revokes old URLs."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"private feed of {self.user}"

    @classmethod
    def for_user(cls, user, *, renew: bool = False) -> PrivateFeed:
        import secrets

        feed = cls.objects.filter(user=user).first()
        if feed is None or renew:
            feed, _ = cls.objects.update_or_create(
                user=user, defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()})
        return feed
