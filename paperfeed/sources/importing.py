"""Running a source's records into the database, with progress and a summary line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from paperfeed.papers.merge import MergeStats, apply_records
from paperfeed.papers.records import PaperRecord

log = logging.getLogger("paperfeed.sources")


def batched(records: Iterable[PaperRecord], size: int) -> Iterator[list[PaperRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def import_records(records: Iterable[PaperRecord], batch_size: int = 1000) -> MergeStats:
    """Merge records batch by batch; each batch is one transaction."""
    total = MergeStats()
    for batch in batched(records, batch_size):
        total.add(apply_records(batch))
    return total


def import_pages(
    pages: Iterable[list[PaperRecord]],
    on_page: Callable[[int, list[PaperRecord], MergeStats], None] | None = None,
) -> MergeStats:
    """Merge what a network source fetched, one transaction per page as it arrives.

    A failure while fetching page *n* leaves pages 1..n-1 stored and nothing of page *n*.
    """
    total = MergeStats()
    for number, page in enumerate(pages, 1):
        stats = apply_records(page)
        total.add(stats)
        if on_page:
            on_page(number, page, stats)
    return total
