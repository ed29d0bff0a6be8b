"""The bulk paths of merge.py (added for ingestion at scale) agree with the simple ones."""

from __future__ import annotations

import json

import pytest

from paperfeed.papers.merge import _content_hash, apply_records
from paperfeed.papers.models import PaperVersion
from paperfeed.papers.records import PaperRecord
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


def test_the_fast_content_hash_equals_the_records_own(shared_dir):
    records = _real_records(shared_dir)
    assert len(records) > 250
    assert [_content_hash(r) for r in records] == [r.content_hash() for r in records]


@pytest.mark.django_db
def test_a_batch_costs_a_fixed_number_of_queries(shared_dir, django_assert_max_num_queries):
    records = [r for r in _real_records(shared_dir) if r.source == "kaggle"]
    # A constant number of statements per batch (SQLite splits big INSERTs by its
    # variable limit, so a few more there), never one per record.
    with django_assert_max_num_queries(30):
        stats = apply_records(records)
    assert stats.new == 200
    # Every version's own text is kept: the latest version's title for each paper.
    assert PaperVersion.objects.exclude(title="").count() == 200


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
