"""What the sources remember between runs: harvest checkpoints and scheduled jobs."""

from __future__ import annotations

from django.db import models


class HarvestState(models.Model):
    """Where an OAI-PMH harvest of one (metadata format, set) stands.

    Saved in the same transaction as each page's records, so after a crash the
    checkpoint and the stored papers always agree: a resumed harvest neither repeats
    nor skips a page.
    """

    key = models.CharField(max_length=200, unique=True)  # "arXiv:cs", "oai_dc:*"
    metadata_prefix = models.CharField(max_length=32)
    set_spec = models.CharField(max_length=100, blank=True)
    from_date = models.DateField(null=True, blank=True)
    until_date = models.DateField(null=True, blank=True)
    # Non-empty while a harvest is under way: the token that fetches the next page.
    resumption_token = models.CharField(max_length=500, blank=True)
    complete_list_size = models.PositiveIntegerField(null=True, blank=True)
    last_datestamp = models.DateField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key

    @property
    def in_progress(self) -> bool:
        return bool(self.resumption_token)


class ScheduledJob(models.Model):
    """A daily job of the worker; ``next_run_at`` is claimed with a conditional UPDATE."""

    name = models.CharField(max_length=64, unique=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True)
    last_message = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class RejectedRecord(models.Model):
    """A record a source sent that could not be imported, kept for the operator.

    An OAI-PMH page is committed with its checkpoint; if one bad record rejected the
    whole page, every rerun would stop at the same token forever. So the bad record is
    skipped, reported and kept here, as received, for ``paperfeed rejected`` to show.
    """

    source = models.CharField(max_length=32)
    identifier = models.CharField(max_length=300, blank=True)  # e.g. oai:arXiv.org:2401.12345
    where = models.TextField()  # the URL and the record's number on the page
    message = models.TextField()
    content = models.TextField(blank=True)  # the record as received (XML)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.source} {self.identifier or self.where}"
