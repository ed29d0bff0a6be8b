"""Running a source's records into the database, with progress and a summary line."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
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
