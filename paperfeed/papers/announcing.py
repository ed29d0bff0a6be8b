"""Telling listeners which papers changed: at once, or in bulk from a background thread.

``papers_changed`` is sent after each merge batch commits. A bulk import writes
hundreds of batches, and the search app's listener commits the keyword index once per
signal, at a fixed cost plus tokenising every paper; per 2,000-paper batch that took as
long as the merge itself. Inside ``changes_announced_in_bulk()`` the ids are therefore
collected and sent once per ``BULK_ANNOUNCE_EVERY`` papers, from one background
thread, so indexing one set overlaps merging the next (tantivy releases the GIL while
it indexes). The block waits for that thread before it ends, also when it ends with an
error, so every committed paper has been announced when the import returns.

A back-fill of millions can instead defer all of it: inside
``changes_announced_in_bulk(deferred=True)`` nothing is sent per batch, and at the end
one ``papers_changed_since`` asks listeners to catch up on every paper changed since the
block began (the search index then takes them in one pass, with one writer, rather
than a commit per 10,000 papers competing with the import for the CPU). The block's
start is stored as a ``PendingAnnouncement`` first, so a killed import is caught up by
the next deferred block or ``paperfeed reindex``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.utils import timezone

from paperfeed.papers.models import Paper, PendingAnnouncement
from paperfeed.papers.signals import papers_changed, papers_changed_since

log = logging.getLogger("paperfeed.papers")
BULK_ANNOUNCE_EVERY = 10_000


class _BulkAnnouncer:
    def __init__(self) -> None:
        self.held: list[int] = []
        self.errors: list[BaseException] = []
        # One set being sent and one waiting at most: memory stays flat however long
        # the import, and the import slows down to the listeners' pace if it must.
        self.queue: queue.Queue[list[int] | None] = queue.Queue(maxsize=1)
        self.thread = threading.Thread(target=self._run, name="papers-changed", daemon=True)
        self.thread.start()

    def add(self, paper_ids: list[int]) -> None:
        self.held.extend(paper_ids)
        if len(self.held) >= BULK_ANNOUNCE_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self.held:
            self.queue.put(sorted(set(self.held)))
            self.held = []

    def _run(self) -> None:
        try:
            while (paper_ids := self.queue.get()) is not None:
                try:
                    papers_changed.send(sender=Paper, paper_ids=paper_ids)
                except Exception as exc:  # keep draining, or the importer would block
                    log.exception("a papers_changed listener failed")
                    self.errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    def close(self) -> None:
        self._flush()
        self.queue.put(None)
        self.thread.join()


class _Deferred:
    """Announces nothing per batch: the end of the block catches up in one go."""

    def add(self, paper_ids: list[int]) -> None:
        pass


_bulk: ContextVar[_BulkAnnouncer | _Deferred | None] = ContextVar("paperfeed_bulk_announcer", default=None)


def announce(paper_ids: list[int]) -> None:
    """Send ``papers_changed`` for committed papers (or hand them to the bulk block)."""
    bulk = _bulk.get()
    if bulk is None:
        papers_changed.send(sender=Paper, paper_ids=paper_ids)
    else:
        bulk.add(paper_ids)


@contextmanager
def changes_announced_in_bulk(*, deferred: bool = False, label: str = "",
                              progress: Callable[[int, int], None] | None = None
                              ) -> Iterator[None]:
    """Within this block, send ``papers_changed`` per ~10,000 papers, in the background.

    ``deferred``: send nothing until the block ends, then one ``papers_changed_since``
    (with ``progress``); if the block fails, the pending announcement stays for later.
    """
    if deferred:
        with _deferred(label, progress):
            yield
        return
    bulk = _BulkAnnouncer()
    token = _bulk.set(bulk)
    try:
        yield
    finally:
        _bulk.reset(token)
        bulk.close()
    if bulk.errors:
        raise bulk.errors[0]


@contextmanager
def _deferred(label: str, progress: Callable[[int, int], None] | None) -> Iterator[None]:
    pending = PendingAnnouncement.objects.create(since=timezone.now(), label=label[:300])
    token = _bulk.set(_Deferred())
    try:
        yield
    except BaseException:
        log.warning("the import stopped before its changes were announced; the next bulk "
                    "import or `paperfeed reindex` catches up")
        raise
    finally:
        _bulk.reset(token)
    announce_pending(progress=progress, own=pending)


def announce_pending(*, progress: Callable[[int, int], None] | None = None,
                     own: PendingAnnouncement | None = None) -> bool:
    """Announce every change since the oldest pending bulk block; False if none was left.

    Pending rows as old as ``own`` or older are covered by this announcement and
    deleted with it: they are blocks that were killed, or that still run and will
    announce their later changes themselves when they end.
    """
    rows = list(PendingAnnouncement.objects.all())
    if own is not None and own not in rows:
        rows.append(own)  # covered by someone else meanwhile: still ours to announce
    if not rows:
        return False
    since = min(row.since for row in rows)
    newest = own.since if own is not None else max(row.since for row in rows)
    papers_changed_since.send(sender=Paper, since=since, progress=progress)
    PendingAnnouncement.objects.filter(since__lte=newest).delete()
    return True
