"""The bulk paths of merge.py (added for ingestion at scale) agree with the simple ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from django.db.models import F

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import PaperVersion
from paperfeed.papers.records import PaperRecord, VersionRecord
from paperfeed.sources import arxiv_api, hf_daily, kaggle


def _real_records(shared_dir) -> list[PaperRecord]:
    fixtures = shared_dir / "fixtures"
    lines = (fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
             ).read_text().splitlines()
    records = [kaggle.row_record(json.loads(line), "t") for line in lines]
    records += hf_daily.parse_page((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_bytes())
    records += arxiv_api.parse_feed(
        (fixtures / "arxiv-api/arxiv_api_cs.AI_LG_CL_2026-08-02.xml").read_bytes()).records
    return records


def test_the_content_hash_is_stable_and_sees_every_field(shared_dir):
    records = _real_records(shared_dir)
    assert len(records) > 250
    digests = [r.content_hash() for r in records]
    assert digests == [dataclasses.replace(r).content_hash() for r in records]
    assert len(set(digests)) == len({(r.source, r.original_id) for r in records})
    base = records[0]
    changed = {
        "source": "x", "original_id": "x", "title": "x", "abstract": "x", "arxiv_id": "x",
        "version": 99, "authors": ("x",), "author_count": 7, "categories": ("x",),
        "published_on": dt.date(1999, 1, 1), "updated_on": dt.date(1999, 1, 1),
        "feed_date": dt.date(1999, 1, 1), "upvotes": 5, "num_comments": 5, "pdf_url": "x",
        "code_url": "x", "project_url": "x", "github_stars": 5, "organization": "x",
        "submitted_by": "x", "ai_summary": "x", "ai_keywords": ("x",), "journal_ref": "x",
        "organization_handle": "x", "submitter_name": "x", "author_participating": True,
        "doi": "x", "arxiv_comments": "x", "license": "x",
        "versions": (VersionRecord(1, dt.datetime(1999, 1, 1, tzinfo=dt.UTC), "1kb"),),
        "extra": {"x": 1},
    }
    assert set(changed) == {f.name for f in dataclasses.fields(PaperRecord)}
    for name, value in changed.items():
        assert getattr(base, name) != value, name
        assert dataclasses.replace(base, **{name: value}).content_hash() != digests[0], name


@pytest.mark.django_db
def test_a_batch_costs_a_fixed_number_of_queries(shared_dir, django_assert_max_num_queries):
    records = [r for r in _real_records(shared_dir) if r.source == "kaggle"]
    # A constant number of statements per batch (SQLite splits big INSERTs by its
    # variable limit, so a few more there), never one per record.
    with django_assert_max_num_queries(30):
        stats = apply_records(records)
    assert stats.new == 200
    # Each paper's latest version has its text, stored once (on the paper).
    latest = PaperVersion.objects.filter(version=F("paper__latest_version")).select_related("paper")
    assert latest.count() == 200
    assert all(v.text == (v.paper.title, v.paper.abstract) and not v.title for v in latest)


@pytest.mark.django_db
def test_a_record_repeated_in_one_batch_leaves_one_paper_and_one_provenance_row():
    from paperfeed.papers.models import Paper, SourceRecord

    first = PaperRecord(source="kaggle", original_id="2401.00001", arxiv_id="2401.00001",
                        title="A title", categories=("cs.LG",))
    again = PaperRecord(source="kaggle", original_id="2401.00001", arxiv_id="2401.00001",
                        title="A title", categories=("cs.LG", "cs.AI"))
    apply_records([first, again])
    assert Paper.objects.count() == SourceRecord.objects.count() == 1
    assert SourceRecord.objects.get().content_hash == again.content_hash()
    assert sorted(Paper.objects.get().categories.values_list("code", flat=True)) == [
        "cs.AI", "cs.LG"]
    stats = apply_records([
        PaperRecord(source="kaggle", original_id="2401.00002", arxiv_id="2401.00002", title="B"),
        PaperRecord(source="arxiv-oai", original_id="2401.00002", arxiv_id="2401.00002", title="B"),
    ])
    assert (stats.fetched, stats.new, stats.updated, stats.skipped) == (2, 1, 0, 1)
