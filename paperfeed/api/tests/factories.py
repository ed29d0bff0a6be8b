"""Papers for the api tests, made the way sources make them: records through apply_records."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from django.test import TestCase

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper, SourceRecord
from paperfeed.papers.records import PaperRecord
from paperfeed.sources import hf_daily

_counter = itertools.count(1)


def record(**fields) -> PaperRecord:
    n = next(_counter)
    fields.setdefault("source", "arxiv-api")
    fields.setdefault("original_id", fields.get("arxiv_id") or f"test-{n}")
    fields.setdefault("title", f"A study of things number {n}")
    return PaperRecord(**fields)


def make_papers(*records: PaperRecord) -> list[Paper]:
    # Run the after-commit hooks (papers_changed) even inside a test's transaction, so a
    # search engine listening for them indexes these papers as it would in production.
    with TestCase.captureOnCommitCallbacks(execute=True):
        apply_records(records)
    ids = [r.original_id for r in records]
    by_original = {
        sr.original_id: sr.paper
        for sr in SourceRecord.objects.filter(original_id__in=ids).select_related("paper")
    }
    return [by_original[i] for i in ids]


def make_paper(**fields) -> Paper:
    return make_papers(record(**fields))[0]


def hf_fixture_records(path: Path) -> tuple[list[dict], list[PaperRecord]]:
    """The items of a real recorded HF ``/api/daily_papers`` page, and the records the
    HF source makes of them (so what the API gives back went through real ingestion)."""
    body = path.read_bytes()
    return json.loads(body), hf_daily.parse_page(body, str(path))
