"""Plain factories for tests: records and papers with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper
from paperfeed.papers.records import PaperRecord

_counter = itertools.count(1)


def record(**overrides) -> PaperRecord:
    n = next(_counter)
    values = {
        "source": "arxiv-api",
        "original_id": f"test-{n}",
        "title": f"A study of thing number {n}",
        "abstract": f"We study thing {n} and find that it is interesting in several ways.",
        "arxiv_id": f"2501.{n:05d}",
        "version": 1,
        "authors": ("Ada Lovelace", "Alan Turing"),
        "categories": ("cs.LG",),
        "published_on": dt.date(2025, 1, 15),
        "feed_date": dt.date(2025, 1, 15),
        "upvotes": 0,
    }
    values.update(overrides)
    return PaperRecord(**values)


def paper(**overrides) -> Paper:
    rec = record(**overrides)
    apply_records([rec])
    return Paper.objects.get(arxiv_id=rec.arxiv_id) if rec.arxiv_id else Paper.objects.get(title=rec.title)
