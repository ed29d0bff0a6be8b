"""The thumbnail worker: fetch each recent feed paper's PDF once and render page 1.

Work is a :class:`~paperfeed.thumbnails.models.Thumbnail` row. :func:`enqueue` adds rows
for feed papers of the last ``PAPERFEED_THUMBNAIL_DAYS`` days that have a PDF to fetch;
:func:`claim_next` takes one with a conditional UPDATE (only the worker whose UPDATE still
matches the state it read gets the row), so N workers on several hosts never fetch the
same paper twice, on SQLite or PostgreSQL, and no lock is held while a PDF downloads. A
worker that dies leaves its row claimed until the lease runs out.

PDFs come through the sources' :class:`~paperfeed.sources.http.PoliteClient`: one request
at a time per worker, ``PAPERFEED_SOURCES_DELAY`` between requests, ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from paperfeed import conf
from paperfeed.lib.text import web_url
from paperfeed.papers.models import Paper
from paperfeed.sources.http import FetchError, InvalidURLError, PoliteClient, TooLargeError
from paperfeed.thumbnails import storage
from paperfeed.thumbnails.models import Thumbnail
from paperfeed.thumbnails.render import RenderError, looks_like_pdf, render_first_page

log = logging.getLogger("paperfeed.thumbnails")
LEASE = dt.timedelta(minutes=15)
State = Thumbnail.State


@dataclass(frozen=True)
class Limits:
    max_pdf_mb: int
    width: int
    max_pixels: int
    render_timeout: float
    max_attempts: int
    retry_seconds: int

    @classmethod
    def from_settings(cls) -> Limits:
        """Read (and check) every limit before the first claim: a bad value stops the
        worker at once, naming the setting, instead of failing papers one by one."""
        return cls(*(conf.value(f"PAPERFEED_THUMBNAIL_{name}") for name in (
            "MAX_PDF_MB", "WIDTH", "MAX_PIXELS", "RENDER_TIMEOUT", "MAX_ATTEMPTS",
            "RETRY_SECONDS")))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def window_start(now: dt.datetime) -> dt.date:
    return now.date() - dt.timedelta(days=conf.value("PAPERFEED_THUMBNAIL_DAYS"))


def pdf_url(paper: Paper) -> str:
    """Where to fetch ``paper``'s PDF: the configured arXiv mirror, else its own link."""
    if paper.arxiv_id:
        return f"{conf.value('PAPERFEED_THUMBNAIL_PDF_URL').rstrip('/')}/{paper.arxiv_id}"
    return web_url(paper.pdf_url)


def _wanted(now: dt.datetime):
    """Visible feed papers of the window; the only papers the worker ever fetches."""
    return Paper.objects.visible().filter(feed_date__gte=window_start(now))


def enqueue(now: dt.datetime) -> int:
    """Add a pending row for every wanted paper that has a PDF and no row yet."""
    papers = (_wanted(now).filter(thumbnail__isnull=True)
              .exclude(Q(arxiv_id__isnull=True) & Q(pdf_url=""))
              .only("pk", "arxiv_id", "pdf_url"))
    rows = [Thumbnail(paper=p, next_attempt_at=now) for p in papers if pdf_url(p)]
    # ignore_conflicts: another worker may be enqueueing the same papers right now.
    Thumbnail.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def _due(now: dt.datetime):
    return Thumbnail.objects.filter(
        Q(state__in=(State.PENDING, State.RETRY), next_attempt_at__lte=now)
        | Q(state=State.WORKING, lease_until__lt=now),
        paper__in=_wanted(now),
    )


def claim_next(worker: str, now: dt.datetime | None = None) -> Thumbnail | None:
    """Claim the newest due paper for ``worker``; None when there is nothing left."""
    now = now or timezone.now()
    candidates = _due(now).order_by("-paper__feed_date", "paper_id").only(
        "paper_id", "state", "attempts", "lease_until")[:20]
    for row in candidates:
        # A sort of optimistic lock: the UPDATE matches only if nobody claimed the row
        # since we read it (PostgreSQL re-checks the WHERE after waiting for a racing
        # UPDATE; SQLite runs one writer at a time), so exactly one worker gets 1 row.
        taken = Thumbnail.objects.filter(
            pk=row.pk, state=row.state, attempts=row.attempts, lease_until=row.lease_until
        ).update(state=State.WORKING, lease_until=now + LEASE, claimed_by=worker,
                 attempts=F("attempts") + 1)
        if taken:
            return Thumbnail.objects.select_related("paper").only(
                "paper_id", "attempts", "paper__arxiv_id", "paper__pdf_url").get(pk=row.pk)
    return None


def _finish(row: Thumbnail, worker: str, **fields) -> None:
    # Only while the claim is still ours: after the lease another worker owns the row.
    Thumbnail.objects.filter(pk=row.pk, claimed_by=worker, state=State.WORKING).update(
        lease_until=None, **fields)


def _fail(row: Thumbnail, worker: str, limits: Limits, reason: str, *, permanent: bool,
          **fields) -> str:
    attempts, now = row.attempts, timezone.now()
    if not permanent and attempts >= limits.max_attempts:
        reason = f"{reason} (gave up after {attempts} attempts)"
        permanent = True
    retry = dt.timedelta(seconds=limits.retry_seconds * 2 ** (attempts - 1))
    log.warning("thumbnail of paper %s: %s", row.paper_id, reason)
    _finish(row, worker, state=State.FAILED if permanent else State.RETRY, reason=reason,
            next_attempt_at=now + retry, **fields)
    return "failed" if permanent else "retry"


def process(row: Thumbnail, worker: str, client: PoliteClient, limits: Limits) -> str:
    """Fetch, render and store one claimed thumbnail; returns done / retry / failed."""
    url = pdf_url(row.paper)
    try:
        response = client.get(url, max_bytes=limits.max_pdf_mb * 1_000_000)
    except TooLargeError as exc:
        return _fail(row, worker, limits, f"PDF too large (over {limits.max_pdf_mb} MB, "
                                          f"PAPERFEED_THUMBNAIL_MAX_PDF_MB): {exc}",
                     permanent=True, source_url=url, pdf_size=exc.size)
    except FetchError as exc:
        permanent = isinstance(exc, InvalidURLError)
        return _fail(row, worker, limits, str(exc), permanent=permanent, source_url=url)
    body = response.body
    if response.status != 200:
        # 5xx and 429 were retried by the client already; other answers will not change.
        return _fail(row, worker, limits, f"{url}: HTTP {response.status}", permanent=True,
                     source_url=url)
    if not looks_like_pdf(body):
        kind = response.headers.get("Content-Type", "no Content-Type")
        return _fail(row, worker, limits,
                     f"{url}: not a PDF ({kind}; starts with {body[:24]!r})",
                     permanent=True, source_url=url, pdf_size=len(body))
    try:
        rendered = render_first_page(body, width=limits.width, max_pixels=limits.max_pixels,
                                     timeout=limits.render_timeout)
    except RenderError as exc:
        return _fail(row, worker, limits, f"{url}: {exc.reason}", permanent=exc.permanent,
                     source_url=url, pdf_size=len(body))
    storage.write_cached(rendered.digest, rendered.image)
    _finish(row, worker, state=State.DONE, reason="", source_url=url, pdf_size=len(body),
            digest=rendered.digest, width=rendered.width, height=rendered.height,
            image=rendered.image)
    return "done"


def run_once(*, client: PoliteClient | None = None, limit: int | None = None,
             worker: str | None = None, stopping: Callable[[], bool] = lambda: False,
             report: Callable[[Thumbnail, str], None] | None = None) -> Counter:
    """Enqueue, then work through due thumbnails until none is left (or ``limit``)."""
    limits = Limits.from_settings()
    client = client or PoliteClient()
    worker = worker or worker_name()
    enqueue(timezone.now())
    outcomes: Counter = Counter()
    while not stopping() and (limit is None or outcomes.total() < limit):
        row = claim_next(worker)
        if row is None:
            break
        try:
            outcome = process(row, worker, client, limits)
        except Exception as exc:  # one paper must not stop the worker: record it, go on
            log.exception("thumbnail of paper %s", row.paper_id)
            outcome = _fail(row, worker, limits, f"unexpected error: {type(exc).__name__}: "
                                                 f"{exc}", permanent=False)
        outcomes[outcome] += 1
        if report:
            report(row, outcome)
    return outcomes
