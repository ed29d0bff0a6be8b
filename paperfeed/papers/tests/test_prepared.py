"""The bulk fast path (``prepared``) writes exactly what ``apply_records`` writes.

Each test imports the same real records (plus the cases that take other merge
branches) once as prepared rows and once as records, and compares a dump of
everything merge writes, keyed by slug (pks differ between the runs).
"""

from __future__ import annotations

import dataclasses

import pytest
import time_machine
from django.db import connection

from paperfeed.papers import merge, prepared
from paperfeed.papers.models import Category, Paper
from paperfeed.papers.records import PaperRecord, VersionRecord
from paperfeed.papers.tests.test_merge_fast import NOW, _clear, _dump, _import, _records
from paperfeed.sources.importing import batched

pytestmark = pytest.mark.django_db


def _hard_records(shared_dir) -> list[PaperRecord]:
    records = _records(shared_dir)
    kaggle = [r for r in records if r.source == "kaggle"]
    first, second = kaggle[0], kaggle[1]
    return records + [
        # A newer version of a paper imported earlier, from another source (an update).
        dataclasses.replace(first, source="arxiv-api", version=(first.version or 1) + 1, title="Revised title",
                            versions=(*first.versions, VersionRecord((first.version or 1) + 1))),
        # The same new paper twice in one batch, as two sources saw it.
        PaperRecord(source="kaggle", original_id="2611.00001", arxiv_id="2611.00001",
                    title="Twice in a batch", version=1, categories=("cs.LG",),
                    versions=(VersionRecord(1),)),
        PaperRecord(source="arxiv-rss", original_id="2611.00001", arxiv_id="2611.00001",
                    title="Twice in a batch", version=2, abstract="Second version.",
                    categories=("cs.LG", "cs.AI")),
        # A listing page knows a title that a record with an id then brings.
        PaperRecord(source="pages", original_id="p#2", title="Known by title first",
                    upvotes=7),
        PaperRecord(source="kaggle", original_id="2611.00002", arxiv_id="2611.00002",
                    title="Known by Title First", version=1, versions=(VersionRecord(1),)),
        # A record whose texts belong to a version it does not list; no categories.
        PaperRecord(source="kaggle", original_id="2611.00003", arxiv_id="2611.00003",
                    title="Version not listed", abstract="Text.", version=3),
        # Text that COPY's format must escape: backslashes (LaTeX), a literal \N,
        # tabs and line breaks in fields no source normalises, markup, non-ASCII.
        PaperRecord(source="kaggle", original_id="2611.00005", arxiv_id="2611.00005",
                    title=r"On \alpha-stable \N laws <script>x</script> \\ ünïcode",
                    abstract="tab\there, line\nbreak, cr\rreturn, \\N and \\.",
                    authors=("A. \"Quote\" Tab\tName", "B\\N"), version=1,
                    journal_ref="J.\tRef\n2", license="\\N", doi="10.1/a\\b",
                    versions=(VersionRecord(1, size="1kb\t"),)),
        # A new category nobody defined.
        dataclasses.replace(second, original_id="2611.00004", arxiv_id="2611.00004",
                            categories=("zz.NEW", "cs.LG")),
    ]


def _import_prepared(records: list[PaperRecord], batch_size: int) -> merge.MergeStats:
    total = merge.MergeStats()
    preparer = prepared.Preparer()
    with time_machine.travel(NOW, tick=False):
        for batch in batched(records, batch_size):
            items = [preparer.prepare(record, record.content_hash(), i)
                     for i, record in enumerate(batch)]
            total.add(prepared.apply_prepared(items, lambda item, b=batch: b[item.payload],
                                              now=NOW))
    return total


@pytest.mark.parametrize("batch_size", [1000, 7])
def test_prepared_rows_write_what_the_merge_writes(shared_dir, batch_size):
    records = _hard_records(shared_dir)
    seeded = set(Category.objects.values_list("code", flat=True))
    fast_stats = _import_prepared(records, batch_size)
    fast = _dump()
    _clear(seeded)
    merge_stats = _import(records, batch_size)
    assert _dump() == fast
    assert fast_stats == merge_stats
    assert fast_stats.new == len(fast["papers"]) > 250
    # In one batch, later records fold into the papers it creates; in small ones they
    # update papers earlier batches created.
    assert (fast_stats.updated > 0) == (batch_size < len(records))
    # Once more: everything is skipped and nothing changes.
    again = _import_prepared(records, batch_size)
    assert (again.new, again.updated, again.skipped) == (0, 0, len(records))
    assert _dump() == fast


def test_new_papers_take_the_fast_path_and_the_rest_the_merge(shared_dir, monkeypatch):
    records = [r for r in _records(shared_dir) if r.source == "kaggle"]
    merged: list[str] = []
    real = merge.merge_in_transaction

    def spy(batch, digests, now, stats):
        merged.extend(r.original_id for r in batch)
        return real(batch, digests, now, stats)

    monkeypatch.setattr(merge, "merge_in_transaction", spy)
    stats = _import_prepared(records, 1000)
    assert stats.new == len(records) and merged == []
    # A newer version of one of them goes through the merge; the others are skipped.
    newer = dataclasses.replace(records[5], version=9, versions=(VersionRecord(9),))
    stats = _import_prepared([*records[:5], newer, *records[6:]], 1000)
    assert merged == [newer.original_id]
    assert (stats.new, stats.updated, stats.skipped) == (0, 1, len(records) - 1)
    assert Paper.objects.get(arxiv_id=newer.arxiv_id).latest_version == 9


def test_the_import_keeps_only_indexes_that_queries_use():
    """Migration 0005: no ``LIKE`` pattern indexes, no index the unique one covers."""
    with connection.cursor() as cursor:
        tables = {table: connection.introspection.get_constraints(cursor, table)
                  for table in ("papers_paper", "papers_paper_categories")}
    for table, constraints in tables.items():
        columns = [tuple(info["columns"]) for info in constraints.values()
                   if info["index"] or info["unique"]]
        assert len(columns) == len(set(columns)), table  # one index per column list
        assert not [name for name in constraints if name.endswith("_like")], table
    links = [tuple(info["columns"]) for info in tables["papers_paper_categories"].values()
             if info["index"] or info["unique"]]
    assert ("paper_id",) not in links and ("paper_id", "category_id") in links
