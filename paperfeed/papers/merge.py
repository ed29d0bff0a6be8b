"""Turn source records into papers: identity, merge rules and provenance, in one place.

Identity: the arXiv id is the key. A record without one (a saved listing page) matches
a paper with the same title key; a record with one that is new to us also adopts a
paper known so far only by that title (it gains its arXiv id, and keeps its slug so old
links still work).

Merge rules, applied field by field:

* title, abstract, authors: the newest arXiv version wins; an unversioned record only
  fills what is still empty;
* categories: the union; the first category a paper was given stays its primary one;
* published_on: the earliest date any source gave; updated_on: the latest;
* feed_date: the earliest day any source put the paper in its feed (a paper enters a
  feed once);
* upvotes/comments imported: the highest count any source reported (votes cast on this
  site live apart, in ``upvotes_local``);
* links, organisation, submitter, AI summary: fill blanks; GitHub stars: latest count.

A record seen before with the same content is skipped without touching anything, so a
re-import changes nothing. Callers pass one page/batch per call: it runs in one
transaction, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from paperfeed.lib.text import title_key, title_slug
from paperfeed.papers.models import Category, Paper, PaperVersion, SourceRecord
from paperfeed.papers.records import PaperRecord
from paperfeed.papers.signals import papers_changed

# Slugs that would shadow a page under /papers/ (the detail URL is /papers/<slug>).
RESERVED_SLUGS = frozenset({"trending", "all", "go", "date", "week", "month", "search",
                            "submit", "feeds", "for-you", "more-like", "rss", "atom", "api"})
_FILL_BLANK = ("pdf_url", "code_url", "project_url", "organization", "submitted_by",
               "ai_summary", "journal_ref", "doi", "arxiv_comments", "license")


@dataclass
class MergeStats:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0

    def add(self, other: MergeStats) -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated
        self.skipped += other.skipped

    def summary(self) -> str:
        return (f"fetched {self.fetched} / new {self.new} / updated {self.updated} "
                f"/ skipped {self.skipped}")


def _slug_for(record: PaperRecord) -> str:
    if record.arxiv_id:
        return "arxiv-" + record.arxiv_id.replace("/", "-").replace(".", "-")
    return title_slug(record.title)


class _Batch:
    """In-memory indexes of the papers a batch touches, loaded with a few queries."""

    def __init__(self, records: list[PaperRecord]):
        by_source: dict[str, list[str]] = defaultdict(list)
        for r in records:
            by_source[r.source].append(r.original_id)
        self.source_records: dict[tuple[str, str], SourceRecord] = {}
        for source, ids in by_source.items():
            for sr in SourceRecord.objects.filter(source=source, original_id__in=ids):
                self.source_records[(sr.source, sr.original_id)] = sr
        arxiv_ids = {r.arxiv_id for r in records if r.arxiv_id}
        keys = {title_key(r.title) for r in records}
        paper_ids = {sr.paper_id for sr in self.source_records.values()}
        papers = list(Paper.objects.filter(arxiv_id__in=arxiv_ids))
        papers += Paper.objects.filter(title_key__in=keys).exclude(arxiv_id__in=arxiv_ids)
        papers += Paper.objects.filter(pk__in=paper_ids).exclude(
            pk__in=[p.pk for p in papers]
        )
        self.by_pk = {p.pk: p for p in papers}
        self.by_arxiv = {p.arxiv_id: p for p in papers if p.arxiv_id}
        self.by_title: dict[str, list[Paper]] = defaultdict(list)
        for p in papers:
            self.by_title[p.title_key].append(p)
        self.slugs_taken = set(RESERVED_SLUGS) | set(
            Paper.objects.filter(slug__in={_slug_for(r) for r in records}).values_list(
                "slug", flat=True
            )
        )

    def find(self, record: PaperRecord) -> Paper | None:
        sr = self.source_records.get((record.source, record.original_id))
        if sr is not None and sr.paper_id in self.by_pk:
            return self.by_pk[sr.paper_id]
        if record.arxiv_id and record.arxiv_id in self.by_arxiv:
            return self.by_arxiv[record.arxiv_id]
        for paper in self.by_title.get(title_key(record.title), []):
            # Adopt a paper with no arXiv id; never merge two different arXiv ids.
            if not paper.arxiv_id or not record.arxiv_id:
                return paper
        return None

    def register(self, paper: Paper) -> None:
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = paper
        self.by_title[paper.title_key].append(paper)

    def unique_slug(self, record: PaperRecord) -> str:
        base = _slug_for(record)
        slug, n = base, 1
        while slug in self.slugs_taken or (
            n > 1 and Paper.objects.filter(slug=slug).exists()
        ):
            n += 1
            slug = f"{base}-{n}"
        self.slugs_taken.add(slug)
        return slug


def _is_newer(record: PaperRecord, paper: Paper) -> bool:
    if record.version is None:
        return False
    return paper.latest_version is None or record.version >= paper.latest_version


def _merge_into(paper: Paper, record: PaperRecord) -> bool:
    """Apply ``record`` to ``paper`` in memory; True if anything changed."""
    before = {f: getattr(paper, f) for f in _TRACKED}
    newer = _is_newer(record, paper)
    if record.title and (newer or not paper.title):
        paper.title = record.title
        paper.title_key = title_key(record.title)
    if record.abstract and (newer or not paper.abstract):
        paper.abstract = record.abstract
    if record.authors and (newer or not paper.authors):
        paper.authors = list(record.authors)
        paper.author_count = len(record.authors)
    elif record.author_count and not paper.authors and not paper.author_count:
        paper.author_count = record.author_count
    if record.version is not None and newer:
        paper.latest_version = record.version
    if record.arxiv_id and not paper.arxiv_id:
        paper.arxiv_id = record.arxiv_id
    paper.published_on = _earliest(paper.published_on, record.published_on)
    paper.feed_date = _earliest(paper.feed_date, record.feed_date)
    paper.updated_on = max(filter(None, [paper.updated_on, record.updated_on]), default=None)
    if record.upvotes is not None:
        paper.upvotes_imported = max(paper.upvotes_imported, record.upvotes)
    if record.num_comments is not None:
        paper.comments_imported = max(paper.comments_imported, record.num_comments)
    for name in _FILL_BLANK:
        value = getattr(record, name)
        if value and not getattr(paper, name):
            setattr(paper, name, value)
    if record.ai_keywords and not paper.ai_keywords:
        paper.ai_keywords = list(record.ai_keywords)
    if record.github_stars is not None:
        paper.github_stars = record.github_stars
    return any(getattr(paper, f) != v for f, v in before.items())


_TRACKED = (
    "title", "abstract", "authors", "author_count", "latest_version", "arxiv_id",
    "published_on", "feed_date", "updated_on", "upvotes_imported", "comments_imported",
    "ai_keywords", "github_stars", *_FILL_BLANK,
)


def _earliest(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return min(filter(None, [a, b]), default=None)


def _ensure_categories(codes: set[str]) -> None:
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = [
        Category(code=c, name=c, archive=c.split(".")[0], active=False) for c in codes - known
    ]
    Category.objects.bulk_create(missing, ignore_conflicts=True)


def apply_records(records: Iterable[PaperRecord], *, now: dt.datetime | None = None) -> MergeStats:
    """Merge a batch of records in one transaction and return what happened."""
    records = list(records)
    stats = MergeStats(fetched=len(records))
    if not records:
        return stats
    now = now or timezone.now()
    with transaction.atomic():
        batch = _Batch(records)
        new_papers: list[Paper] = []
        changed: dict[int, Paper] = {}
        pending: list[tuple[PaperRecord, Paper, str]] = []  # record, paper, content hash
        for record in records:
            digest = record.content_hash()
            known = batch.source_records.get((record.source, record.original_id))
            if known is not None and known.content_hash == digest:
                stats.skipped += 1
                continue
            paper = batch.find(record)
            if paper is None:
                paper = Paper(title="", title_key="", slug=batch.unique_slug(record))
                _merge_into(paper, record)
                batch.register(paper)
                new_papers.append(paper)
                stats.new += 1
            else:
                is_new = paper.pk is None
                if _merge_into(paper, record) or known is None:
                    if not is_new:
                        changed[paper.pk] = paper
                    stats.updated += 0 if is_new else 1
                else:
                    stats.skipped += 1
            pending.append((record, paper, digest))

        Paper.objects.bulk_create(new_papers)
        if changed:
            Paper.objects.bulk_update(list(changed.values()), [*_TRACKED, "updated_at"])
            # bulk_update does not run auto_now.
            Paper.objects.filter(pk__in=changed).update(updated_at=now)
        _save_relations(pending, batch, now)
        touched = sorted({paper.pk for _, paper, _ in pending})
        if touched:
            # After commit: listeners (search indexing, ...) must only see committed rows.
            transaction.on_commit(lambda: papers_changed.send(sender=Paper, paper_ids=touched))
    return stats


def _save_relations(
    pending: list[tuple[PaperRecord, Paper, str]], batch: _Batch, now: dt.datetime
) -> None:
    codes = {c for record, _, _ in pending for c in record.categories}
    if codes:
        _ensure_categories(codes)
    through = Paper.categories.through
    links, versions, new_sources, updated_sources = [], [], [], []
    primaries: dict[int, Paper] = {}
    for record, paper, digest in pending:
        for code in record.categories:
            links.append(through(paper_id=paper.pk, category_id=code))
        if record.categories and paper.primary_category_id is None:
            paper.primary_category_id = record.categories[0]
            primaries[paper.pk] = paper
        for v in record.versions:
            versions.append(PaperVersion(paper=paper, version=v.version,
                                         submitted_at=v.submitted_at, size=v.size))
        known = batch.source_records.get((record.source, record.original_id))
        if known is None:
            new_sources.append(SourceRecord(
                paper=paper, source=record.source, original_id=record.original_id,
                fetched_at=now, content_hash=digest, upvotes=record.upvotes,
                num_comments=record.num_comments,
            ))
        else:
            known.paper, known.fetched_at, known.content_hash = paper, now, digest
            known.upvotes, known.num_comments = record.upvotes, record.num_comments
            updated_sources.append(known)
    through.objects.bulk_create(links, ignore_conflicts=True)
    PaperVersion.objects.bulk_create(versions, ignore_conflicts=True)
    if primaries:
        Paper.objects.bulk_update(list(primaries.values()), ["primary_category"])
    SourceRecord.objects.bulk_create(new_sources)
    if updated_sources:
        SourceRecord.objects.bulk_update(
            updated_sources, ["paper", "fetched_at", "content_hash", "upvotes", "num_comments"]
        )
    _record_version_texts(pending)


def _record_version_texts(pending: list[tuple[PaperRecord, Paper, str]]) -> None:
    """Keep each version's own title and abstract, so earlier versions stay readable."""
    for record, paper, _ in pending:
        if record.version is not None and (record.title or record.abstract):
            PaperVersion.objects.update_or_create(
                paper=paper, version=record.version,
                defaults={"title": record.title, "abstract": record.abstract},
            )
