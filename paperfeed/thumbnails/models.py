"""One row per feed paper whose first page is (to be) shown as a thumbnail."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from paperfeed.papers.models import Paper


class Thumbnail(models.Model):
    """Where a paper's thumbnail stands, and the image itself once rendered.

    The image bytes (a small WebP, ~20 KB) are kept here as well as in the data
    directory: the file is a cache any host can rebuild from the row (see views.py), so a
    second web host never needs to fetch the PDF again, and the URL (named by the image's
    hash) is the same everywhere.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        WORKING = "working", "Claimed by a worker"
        DONE = "done", "Rendered"
        RETRY = "retry", "Failed; will be retried"
        FAILED = "failed", "Failed for good"

    paper = models.OneToOneField(Paper, primary_key=True, on_delete=models.CASCADE,
                                 related_name="thumbnail")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # Claiming: a worker moves a row to WORKING with a conditional UPDATE; a worker that
    # dies leaves it there until ``lease_until``, after which another may take it.
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)  # why the last attempt failed
    source_url = models.URLField(max_length=500, blank=True)
    pdf_size = models.PositiveIntegerField(null=True, blank=True)
    digest = models.CharField(max_length=32, blank=True, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    image = models.BinaryField(blank=True, default=b"")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="thumb_due_idx")]

    def __str__(self) -> str:
        return f"{self.paper_id}: {self.state}"

    @property
    def url(self) -> str:
        return reverse("thumbnails:image", args=[self.digest])
