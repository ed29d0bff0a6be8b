"""Telling listeners which papers changed: at once, or in bulk from a background thread.

``papers_changed`` is sent after each merge batch commits. A bulk import writes
hundreds of batches, and the search app's listener commits the keyword index once per
signal, at a fixed cost plus tokenising every paper; per 2,000-paper batch that took as
long as the merge itself. Inside ``changes_announced_in_bulk()`` the ids are therefore
collected and sent once per ``BULK_ANNOUNCE_EVERY`` papers, from one background
thread, so indexing one set overlaps merging the next (tantivy releases the GIL while
it indexes). The block waits for that thread before it ends, also when it ends with an
error, so every committed paper has been announced when the import returns.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from paperfeed.papers.models import Paper
from paperfeed.papers.signals import papers_changed

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


_bulk: ContextVar[_BulkAnnouncer | None] = ContextVar("paperfeed_bulk_announcer", default=None)


def announce(paper_ids: list[int]) -> None:
    """Send ``papers_changed`` for committed papers (or hand them to the bulk block)."""
    bulk = _bulk.get()
    if bulk is None:
        papers_changed.send(sender=Paper, paper_ids=paper_ids)
    else:
        bulk.add(paper_ids)


@contextmanager
def changes_announced_in_bulk() -> Iterator[None]:
    """Within this block, send ``papers_changed`` per ~10,000 papers, in the background."""
    bulk = _BulkAnnouncer()
    token = _bulk.set(bulk)
    try:
        yield
    finally:
        _bulk.reset(token)
        bulk.close()
    if bulk.errors:
        raise bulk.errors[0]
