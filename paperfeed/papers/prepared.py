"""A bulk import's fast path: records of papers new to the site, as ready rows.

In a back-fill (a million Kaggle records) nearly every record is a paper the site has
never seen, and what the merge writes for such a paper follows from the record alone:
its paper row, version rows, category links and provenance row. ``prepare`` computes
those rows where the records are parsed (a worker process), as plain tuples, and
``apply_prepared`` writes them after a few lookups per batch confirm the papers are
new. Tuples, because they cross a process boundary: unpickling a ``PaperRecord`` cost
~27 µs, more than the writing process spent on anything else per record.

Every other record (one seen before, an id twice in the batch, a title shared with a
paper that has no arXiv id) is rebuilt from its payload and merged by
``apply_records``' own code in the same transaction, so the merge rules stay in
``merge.py``. ``tests/test_prepared.py`` checks that both paths write the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Hashable
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from paperfeed.papers import changelog, merge
from paperfeed.papers.announcing import announce
from paperfeed.papers.bulk import (
    NewPaper,
    PaperRows,
    copy_field,
    copy_text,
    datetime_adapter,
    insert_paper_rows,
    insert_rows,
    next_paper_ids,
    values_in,
)
from paperfeed.papers.models import Paper, PaperVersion, SourceRecord
from paperfeed.papers.records import PaperRecord


class Prepared(NamedTuple):
    """One record, as the rows it makes if its paper is new.

    The rows are what the database takes: values adapted for SQLite's ``executemany``,
    or on PostgreSQL text in ``COPY`` format (formatting it cost the writing process
    more than anything else it did per record).
    """

    source: str
    original_id: str
    arxiv_id: str | None
    digest: str  # the record's content_hash()
    title_key: str
    slug: str
    categories: tuple[str, ...]
    # PaperRows.row(): a list whose slug and timestamps are set when written; COPY
    # text: PaperRows.copy_tail().
    paper: list | str
    # (version, submitted_at, size); COPY text: "version\tsubmitted_at\tsize\t\t".
    versions: tuple[tuple[int, object, str], ...] | tuple[str, ...]
    # COPY text: "source\toriginal_id\tcontent_hash\tupvotes\tnum_comments"; else None.
    provenance: str | None
    upvotes: int | None
    num_comments: int | None
    payload: Hashable  # what the caller's ``rebuild`` turns back into the record


class Preparer:
    """Turns records into ``Prepared`` tuples; one per process, as it looks up the schema."""

    def __init__(self) -> None:
        self.shape = PaperRows()
        self.adapt_datetime = datetime_adapter()
        self.copy = connection.vendor == "postgresql"

    def prepare(self, record: PaperRecord, digest: str, payload: Hashable) -> Prepared:
        paper = NewPaper("", record.categories[0] if record.categories else None)
        merge.merge_into(paper, record, track=False)
        versions: dict[int, tuple[int, object, str]] = {}
        for v in record.versions:
            versions.setdefault(v.version, (v.version, self.adapt_datetime(v.submitted_at),
                                            v.size))
        if record.version is not None and (record.title or record.abstract):
            # The version the record's texts belong to has a row even when the record
            # lists no versions; its texts are the paper's own, so the row keeps none.
            versions.setdefault(record.version, (record.version, None, ""))
        if not self.copy:
            return Prepared(
                record.source, record.original_id, record.arxiv_id, digest, paper.title_key,
                merge.slug_for(record), tuple(dict.fromkeys(record.categories)),
                self.shape.row(paper), tuple(versions.values()), None, record.upvotes,
                record.num_comments, payload)
        return Prepared(
            record.source, record.original_id, record.arxiv_id, digest, paper.title_key,
            merge.slug_for(record), tuple(dict.fromkeys(record.categories)),
            self.shape.copy_tail(paper),
            tuple(f"{v}\t{copy_field(at)}\t{copy_field(size)}\t\t"
                  for v, at, size in versions.values()),
            "\t".join(map(copy_field, (record.source, record.original_id, digest,
                                        record.upvotes, record.num_comments))),
            record.upvotes, record.num_comments, payload)


def apply_prepared(items: list[Prepared], rebuild: Callable[[Prepared], PaperRecord], *,
                   now: dt.datetime | None = None) -> merge.MergeStats:
    """Merge a batch in one transaction, as ``apply_records`` would merge its records."""
    stats = merge.MergeStats(fetched=len(items))
    if not items:
        return stats
    now = now or timezone.now()
    with transaction.atomic():
        codes = {code for item in items for code in item.categories}
        if codes:
            merge.ensure_categories(codes)
        fast, slow = _split(items, stats)
        if fast:
            _write_new(fast, now)
            stats.new += len(fast)
        if slow:
            merge.merge_in_transaction([rebuild(item) for item in slow],
                                       [item.digest for item in slow], now, stats)
    return stats


def _split(items: list[Prepared], stats: merge.MergeStats
           ) -> tuple[list[Prepared], list[Prepared]]:
    """(new papers the fast path writes, records the merge must handle); counts skips."""
    known: dict[tuple[str, str], str] = {}
    for source in {item.source for item in items}:
        ids = [item.original_id for item in items if item.source == source]
        for original_id, digest in values_in(SourceRecord, "original_id, content_hash",
                                             "original_id", ids, "source = %s AND ",
                                             [source]):
            known[(source, original_id)] = digest
    if not merge.BULK_NEW_PAPERS:  # the reference path, for tests
        slow = [item for item in items if known.get((item.source, item.original_id))
                != item.digest]
        stats.skipped += len(items) - len(slow)
        return [], slow
    arxiv_ids = {item.arxiv_id for item in items if item.arxiv_id}
    stored = {arxiv_id for (arxiv_id,) in values_in(Paper, "arxiv_id", "arxiv_id", arxiv_ids)}
    # A record without an arXiv id matches papers by title; so does any record a paper
    # without an id shares its title with: those take the merge's path.
    titles = {item.title_key for item in items if not item.arxiv_id}
    titles |= {key for (key,) in values_in(
        Paper, "title_key", "title_key", {item.title_key for item in items if item.arxiv_id},
        "arxiv_id IS NULL AND ")}
    taken = merge.RESERVED_SLUGS | {slug for (slug,) in values_in(
        Paper, "slug", "slug", {item.slug for item in items})}
    seen = Counter(key for item in items for key in (
        ("record", item.source, item.original_id), ("id", item.arxiv_id), ("slug", item.slug)))
    fast, slow = [], []
    for item in items:
        digest = known.get((item.source, item.original_id))
        if digest == item.digest:
            stats.skipped += 1
        elif (digest is None and item.arxiv_id and item.arxiv_id not in stored
              and item.title_key not in titles and item.slug not in taken
              and seen[("record", item.source, item.original_id)] == seen[("id", item.arxiv_id)]
              == seen[("slug", item.slug)] == 1):
            fast.append(item)
        else:
            slow.append(item)
    return fast, slow


def _write_new(items: list[Prepared], now: dt.datetime) -> None:
    if connection.vendor == "postgresql":
        pks = _copy_new(items, now)
    else:
        pks = _insert_new(items, now)
    changelog.record(pks)  # in this transaction, one row for the batch
    # After commit: listeners (search indexing, ...) must only see committed rows.
    transaction.on_commit(lambda: announce(sorted(pks)))


def _insert_new(items: list[Prepared], now: dt.datetime) -> list[int]:
    shape = PaperRows()
    stamp = datetime_adapter()(now)
    created, updated = shape.stamps
    rows = []
    for item in items:
        row = list(item.paper)
        row[shape.slug], row[created], row[updated] = item.slug, stamp, stamp
        rows.append(row)
    pks = insert_paper_rows(shape, rows)
    links, versions, sources = [], [], []
    for pk, item in zip(pks, items, strict=True):
        links += [(pk, code) for code in item.categories]
        versions += [(pk, version, at, size, "", "") for version, at, size in item.versions]
        sources.append((pk, item.source, item.original_id, stamp, item.digest, item.upvotes,
                        item.num_comments))
    insert_rows(Paper.categories.through, LINK_COLUMNS, links, on_conflict="raise")
    insert_rows(PaperVersion, VERSION_COLUMNS, versions, on_conflict="raise")
    insert_rows(SourceRecord, ["paper_id", "source", "original_id", "fetched_at",
                               "content_hash", "upvotes", "num_comments"], sources,
                on_conflict="raise")
    return pks


def _copy_new(items: list[Prepared], now: dt.datetime) -> list[int]:
    shape = PaperRows()
    stamp = copy_field(now)
    pks = next_paper_ids(len(items))
    papers, links, versions, sources = [], [], [], []
    for pk, item in zip(pks, items, strict=True):
        papers.append(f"{pk}\t{copy_field(item.slug)}\t{stamp}\t{stamp}\t{item.paper}\n")
        links += [f"{pk}\t{copy_field(code)}\n" for code in item.categories]
        versions += [f"{pk}\t{version}\n" for version in item.versions]
        sources.append(f"{pk}\t{stamp}\t{item.provenance}\n")
    copy_text(Paper, shape.copy_columns, "".join(papers))
    copy_text(Paper.categories.through, LINK_COLUMNS, "".join(links))
    copy_text(PaperVersion, VERSION_COLUMNS, "".join(versions))
    copy_text(SourceRecord, ["paper_id", "fetched_at", "source", "original_id", "content_hash",
                             "upvotes", "num_comments"], "".join(sources))
    return pks


LINK_COLUMNS = ["paper_id", "category_id"]
VERSION_COLUMNS = ["paper_id", "version", "submitted_at", "size", "title", "abstract"]
