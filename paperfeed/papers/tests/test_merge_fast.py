"""The bulk path for new papers (plain rows, COPY on PostgreSQL) writes what the ORM would.

Each test imports the same real records twice, once through the bulk path and once
through the reference (model instances and ``bulk_create``), and compares a dump of
everything merge writes: papers, versions, categories, provenance. Pks differ between
the two runs, so rows are keyed by slug.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine

from paperfeed.papers import announcing, merge
from paperfeed.papers.models import Category, Paper, PaperVersion, SourceRecord
from paperfeed.papers.records import PaperRecord, VersionRecord
from paperfeed.papers.tests.test_merge_bulk import _real_records
from paperfeed.sources.importing import batched

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.UTC)


def _records(shared_dir) -> list[PaperRecord]:
    """Real records of three sources, plus the cases that take other merge branches."""
    records = _real_records(shared_dir)
    first = records[0]
    records += [
        # The same paper again from another source, an older version, no categories.
        dataclasses.replace(
            first,
            source="arxiv-oai",
            version=1,
            title="An older title",
            categories=(),
            versions=(VersionRecord(1),),
        ),
        # A listing page knows it only by title; later a record with an id adopts it.
        PaperRecord(
            source="pages",
            original_id="p#1",
            title="A paper only listed",
            author_count=3,
            feed_date=dt.date(2026, 10, 30),
            upvotes=4,
        ),
        PaperRecord(
            source="arxiv-api",
            original_id="2610.00001",
            arxiv_id="2610.00001",
            title="A Paper Only Listed",
            version=2,
            abstract="Now with an abstract.",
            categories=("cs.CL", "cs.LG"),
            versions=(VersionRecord(1), VersionRecord(2)),
        ),
        # First without categories, then with: the later record gives the primary one.
        PaperRecord(
            source="hf-daily",
            original_id="2610.00002",
            arxiv_id="2610.00002",
            title="Late categories",
        ),
        PaperRecord(
            source="arxiv-rss",
            original_id="2610.00002",
            arxiv_id="2610.00002",
            title="Late categories",
            categories=("stat.ML",),
        ),
    ]
    return records


def _dump() -> dict:
    slugs = dict(Paper.objects.values_list("pk", "slug"))
    papers = {p.pop("slug"): p for p in Paper.objects.values()}
    for paper in papers.values():
        del paper["id"]
    return {
        "papers": papers,
        "version_rows": sorted(
            (
                slugs[row["paper_id"]],
                row["version"],
                row["submitted_at"],
                row["size"],
                row["title"],
                row["abstract"],
            )
            for row in PaperVersion.objects.values()
        ),
        "categories": sorted(
            (slugs[pid], code)
            for pid, code in Paper.categories.through.objects.values_list("paper_id", "category_id")
        ),
        "sources": sorted(
            (
                row["source"],
                row["original_id"],
                slugs[row["paper_id"]],
                row["fetched_at"],
                row["content_hash"],
                row["upvotes"],
                row["num_comments"],
            )
            for row in SourceRecord.objects.values()
        ),
        "category_rows": sorted(Category.objects.values_list("code", "name", "archive", "active")),
    }


def _import(records: list[PaperRecord], batch_size: int) -> merge.MergeStats:
    total = merge.MergeStats()
    with time_machine.travel(NOW, tick=False):
        for batch in batched(records, batch_size):
            total.add(merge.apply_records(batch, now=NOW))
    return total


def _clear(categories: set[str]) -> None:
    """Back to the database before the import (the migrations' categories stay)."""
    Paper.objects.all().delete()
    Category.objects.exclude(code__in=categories).delete()


@pytest.mark.parametrize("batch_size", [1000, 7])
def test_the_bulk_path_writes_what_the_orm_path_writes(shared_dir, monkeypatch, batch_size):
    records = _records(shared_dir)
    seeded = set(Category.objects.values_list("code", flat=True))
    bulk_stats = _import(records, batch_size)
    bulk = _dump()
    _clear(seeded)
    monkeypatch.setattr(merge, "BULK_NEW_PAPERS", False)
    orm_stats = _import(records, batch_size)
    assert _dump() == bulk
    assert bulk_stats == orm_stats
    assert bulk_stats.new == len(bulk["papers"]) > 250
    # The tricky cases really happened: adoption, a late primary category.
    adopted = Paper.objects.get(arxiv_id="2610.00001")
    assert adopted.slug == "a-paper-only-listed" and adopted.upvotes_imported == 4
    assert Paper.objects.get(arxiv_id="2610.00002").primary_category_id == "stat.ML"


def test_a_reimport_through_the_bulk_path_changes_nothing(shared_dir):
    records = _records(shared_dir)
    _import(records, 1000)
    before = _dump()
    stats = merge.apply_records(records, now=NOW + dt.timedelta(days=1))
    assert (stats.new, stats.updated, stats.skipped) == (0, 0, len(records))
    assert _dump() == before


def test_in_a_bulk_block_listeners_hear_of_committed_papers_in_larger_sets(
    monkeypatch, django_capture_on_commit_callbacks
):
    from paperfeed.papers.signals import papers_changed
    from paperfeed.papers.tests.factories import record

    heard: list[list[int]] = []

    def listener(sender, paper_ids, **kwargs):
        heard.append(list(paper_ids))

    papers_changed.connect(listener, dispatch_uid="test-bulk-listener")
    monkeypatch.setattr(announcing, "BULK_ANNOUNCE_EVERY", 3)
    try:
        with announcing.changes_announced_in_bulk():
            for size in (2, 2, 1):
                with django_capture_on_commit_callbacks(execute=True):
                    merge.apply_records([record() for _ in range(size)])
        # Held until 3 or more, then the rest when the block ends (which waits for them).
        assert [len(ids) for ids in heard] == [4, 1]
        with django_capture_on_commit_callbacks(execute=True):
            merge.apply_records([record()])
        assert [len(ids) for ids in heard] == [4, 1, 1]  # outside: one signal per batch
    finally:
        papers_changed.disconnect(dispatch_uid="test-bulk-listener")
    assert sorted(i for ids in heard for i in ids) == sorted(
        Paper.objects.values_list("pk", flat=True)
    )
