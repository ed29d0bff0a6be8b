"""Papers for the api tests, made the way sources make them: records through apply_records."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

from django.test import TestCase

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper, SourceRecord
from paperfeed.papers.records import PaperRecord

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


def _hf_day(raw: str | None) -> dt.date | None:
    return dt.date.fromisoformat(raw[:10]) if raw else None


def hf_fixture_records(path: Path) -> tuple[list[dict], list[PaperRecord]]:
    """The items of a real recorded HF ``/api/daily_papers`` page, and records of them."""
    items = json.loads(path.read_text())
    records = []
    for item in items:
        paper = item["paper"]
        submitter = (paper.get("submittedOnDailyBy") or {}).get("user", "")
        records.append(PaperRecord(
            source="hf-daily", original_id=paper["id"], arxiv_id=paper["id"],
            title=paper["title"], abstract=paper["summary"],
            authors=tuple(a["name"] for a in paper["authors"]),
            published_on=_hf_day(paper.get("publishedAt")),
            feed_date=_hf_day(paper.get("submittedOnDailyAt")),
            upvotes=paper["upvotes"], num_comments=item.get("numComments"),
            code_url=paper.get("githubRepo") or "", github_stars=paper.get("githubStars"),
            project_url=paper.get("projectPage") or "", submitted_by=submitter,
            ai_summary=paper.get("ai_summary", ""),
            ai_keywords=tuple(paper.get("ai_keywords", ())),
        ))
    return items, records
