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
* links, organisation, submitter, AI summary: fill blanks; GitHub stars and whether an
  author takes part: the latest a source said.

A record seen before with the same content is skipped without touching anything, so a
re-import changes nothing. Callers pass one page/batch per call: it runs in one
transaction, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db import transaction
from django.utils import timezone

from paperfeed.lib.text import title_key, title_slug, web_url
from paperfeed.papers import changelog
from paperfeed.papers.announcing import announce
from paperfeed.papers.bulk import (
    NewPaper,
    datetime_adapter,
    insert_papers,
    insert_rows,
    objects_in,
    update_rows,
    values_in,
)
from paperfeed.papers.models import Category, Paper, PaperVersion, SourceRecord
from paperfeed.papers.records import PaperRecord

# Slugs that would shadow a page under /papers/ (the detail URL is /papers/<slug>).
RESERVED_SLUGS = frozenset({"trending", "all", "go", "date", "week", "month", "search",
                            "submit", "feeds", "for-you", "more-like", "rss", "atom", "api",
                            "authors", "organizations"})
_URL_FIELDS = frozenset({"pdf_url", "code_url", "project_url"})
_FILL_BLANK = ("pdf_url", "code_url", "project_url", "organization", "organization_handle",
               "submitted_by", "submitter_name", "ai_summary", "journal_ref", "doi", "arxiv_comments", "license")


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


_TITLE_KEY_LENGTH = Paper._meta.get_field("title_key").max_length


# A batch asks for each record's title key three times (lookup, find, merge).
@lru_cache(maxsize=8192)
def _title_key(title: str) -> str:
    # A key is for matching: its first 300 characters match as well as all of them,
    # and the column holds no more (PostgreSQL refused a longer one).
    return title_key(title)[:_TITLE_KEY_LENGTH]


def slug_for(record: PaperRecord) -> str:
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
            for sr in objects_in(SourceRecord, "original_id", ids, "source = %s AND ", [source]):
                self.source_records[(sr.source, sr.original_id)] = sr
        arxiv_ids = {r.arxiv_id for r in records if r.arxiv_id}
        # find() matches a title only when one side has no arXiv id: records with an
        # id need only title matches among papers without one. That keeps a bulk
        # back-fill from loading every paper that shares a title with the batch.
        keys_any = {_title_key(r.title) for r in records if not r.arxiv_id}
        keys_unnumbered = {_title_key(r.title) for r in records if r.arxiv_id} - keys_any
        paper_ids = {sr.paper_id for sr in self.source_records.values()}
        papers = objects_in(Paper, "arxiv_id", arxiv_ids)
        if keys_any:
            papers += Paper.objects.filter(title_key__in=keys_any).exclude(
                arxiv_id__in=arxiv_ids)
        papers += objects_in(Paper, "title_key", keys_unnumbered, "arxiv_id IS NULL AND ")
        missing = paper_ids - {p.pk for p in papers}
        if missing:
            papers += Paper.objects.filter(pk__in=missing)
        self.by_pk = {p.pk: p for p in papers}
        # What each stored paper said before this batch: a version it supersedes gets it.
        self.original = {p.pk: (p.latest_version, p.title, p.abstract) for p in papers}
        self.by_arxiv = {p.arxiv_id: p for p in papers if p.arxiv_id}
        self.by_title: dict[str, list[Paper]] = defaultdict(list)
        for p in papers:
            self.by_title[p.title_key].append(p)
        self.slugs_taken = set(RESERVED_SLUGS) | {
            slug for (slug,) in values_in(Paper, "slug", "slug", {slug_for(r) for r in records})
        }

    def find(self, record: PaperRecord) -> Paper | None:
        sr = self.source_records.get((record.source, record.original_id))
        if sr is not None and sr.paper_id in self.by_pk:
            return self.by_pk[sr.paper_id]
        if record.arxiv_id and record.arxiv_id in self.by_arxiv:
            return self.by_arxiv[record.arxiv_id]
        for paper in self.by_title.get(_title_key(record.title), []):
            # Adopt a paper with no arXiv id; never merge two different arXiv ids.
            if not paper.arxiv_id or not record.arxiv_id:
                return paper
        return None

    def register(self, paper: Paper) -> None:
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = paper
        self.by_title[paper.title_key].append(paper)

    def unique_slug(self, record: PaperRecord) -> str:
        base = slug_for(record)
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


def merge_into(paper: Paper | NewPaper, record: PaperRecord, *, track: bool = True) -> bool:
    """Apply ``record`` to ``paper`` in memory; True if anything changed (if ``track``)."""
    before = {f: getattr(paper, f) for f in _TRACKED} if track else {}
    newer = _is_newer(record, paper)
    if record.title and (newer or not paper.title):
        paper.title = record.title
        paper.title_key = _title_key(record.title)
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
        if name in _URL_FIELDS:
            value = web_url(value)
        if value and not getattr(paper, name):
            setattr(paper, name, value)
    if record.ai_keywords and not paper.ai_keywords:
        paper.ai_keywords = list(record.ai_keywords)
    if record.github_stars is not None:
        paper.github_stars = record.github_stars
    if record.author_participating is not None:
        paper.author_participating = record.author_participating
    return track and any(getattr(paper, f) != v for f, v in before.items())


_TRACKED = (
    "title", "abstract", "authors", "author_count", "latest_version", "arxiv_id",
    "published_on", "feed_date", "updated_on", "upvotes_imported", "comments_imported",
    "ai_keywords", "github_stars", "author_participating", *_FILL_BLANK,
)


def _earliest(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return min(filter(None, [a, b]), default=None)


def ensure_categories(codes: set[str]) -> None:
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = [
        Category(code=c, name=c, archive=c.split(".")[0], active=False) for c in codes - known
    ]
    Category.objects.bulk_create(missing, ignore_conflicts=True)


# False: create papers as model instances through the ORM, and write their rows as if
# they could exist already. Slower; kept as the reference the bulk path is tested
# against (tests/test_merge_fast.py compares the two databases).
BULK_NEW_PAPERS = True


def _new_paper(slug: str, primary_category_id: str | None) -> Paper | NewPaper:
    if BULK_NEW_PAPERS:
        return NewPaper(slug, primary_category_id)
    return Paper(title="", title_key="", slug=slug, primary_category_id=primary_category_id)


def apply_records(records: Iterable[PaperRecord], *, now: dt.datetime | None = None,
                  digests: list[str] | None = None) -> MergeStats:
    """Merge a batch of records in one transaction and return what happened.

    ``digests``: the records' ``content_hash()``, when a parsing process computed them.
    """
    records = list(records)
    if digests is None:
        digests = [record.content_hash() for record in records]
    stats = MergeStats(fetched=len(records))
    if records:
        with transaction.atomic():
            merge_in_transaction(records, digests, now or timezone.now(), stats)
    return stats


def merge_in_transaction(records: list[PaperRecord], digests: list[str], now: dt.datetime,
                         stats: MergeStats) -> None:
    """``apply_records``' work, inside the caller's transaction; counts into ``stats``."""
    codes = {c for record in records for c in record.categories}
    if codes:
        # First, so new papers can be inserted with their primary category set.
        ensure_categories(codes)
    batch = _Batch(records)
    new_papers: list = []
    changed: dict[int, Paper] = {}
    pending: list[tuple[PaperRecord, Paper | NewPaper, str]] = []  # record, paper, hash
    for record, digest in zip(records, digests, strict=True):
        known = batch.source_records.get((record.source, record.original_id))
        if known is not None and known.content_hash == digest:
            stats.skipped += 1
            continue
        paper = batch.find(record)
        if paper is None:
            paper = _new_paper(batch.unique_slug(record),
                               record.categories[0] if record.categories else None)
            merge_into(paper, record, track=False)
            batch.register(paper)
            new_papers.append(paper)
            stats.new += 1
        else:
            is_new = paper.pk is None
            if merge_into(paper, record) or known is None:
                if is_new:
                    # Folded into a paper this batch creates (counted once, as new),
                    # so that fetched = new + updated + skipped.
                    stats.skipped += 1
                else:
                    changed[paper.pk] = paper
                    stats.updated += 1
            else:
                stats.skipped += 1
        pending.append((record, paper, digest))

    if BULK_NEW_PAPERS:
        insert_papers(new_papers, now)
    else:
        Paper.objects.bulk_create(new_papers)
    if changed:
        Paper.objects.bulk_update(list(changed.values()), [*_TRACKED, "updated_at"])
        # bulk_update does not run auto_now.
        Paper.objects.filter(pk__in=changed).update(updated_at=now)
    created = {p.pk for p in new_papers} if BULK_NEW_PAPERS else set()
    _save_relations(pending, batch, now, created=created)
    touched = sorted({paper.pk for _, paper, _ in pending})
    if touched:
        # In this transaction: followers on every host read the log (papers.changelog).
        changelog.record(touched)
        # After commit: listeners (search indexing, ...) must only see committed rows.
        transaction.on_commit(lambda: announce(touched))


def _save_relations(
    pending: list[tuple[PaperRecord, Paper | NewPaper, str]], batch: _Batch, now: dt.datetime,
    created: set[int],
) -> None:
    """Categories, versions and provenance of the batch's papers (``created``: new pks).

    Rows of papers this batch created cannot exist yet, so they are deduplicated here
    and written without conflict handling (COPY on PostgreSQL); rows of older papers
    may exist and are inserted with ``ON CONFLICT DO NOTHING``.
    """
    # Dicts as ordered sets, keyed so a record repeated inside one batch (a cross-listed
    # paper appears in several listings) leaves one row, the last one's provenance.
    links: dict[tuple[int, str], None] = {}
    new_sources: dict[tuple[str, str], tuple] = {}
    updated_sources: list[SourceRecord] = []
    db_datetime = datetime_adapter()
    fetched_at = db_datetime(now)
    # (paper pk, version) -> [submitted_at, size, title, abstract]: the first record's
    # metadata, the last record's texts.
    versions: dict[tuple[int, int], list] = {}
    texts: dict[tuple[int, int], tuple[str, str]] = {}
    primaries: dict[int, str] = {}
    for record, paper, digest in pending:
        for code in record.categories:
            links[(paper.pk, code)] = None
        if record.categories and paper.primary_category_id is None:
            paper.primary_category_id = record.categories[0]
            primaries[paper.pk] = paper.primary_category_id
        for v in record.versions:
            versions.setdefault((paper.pk, v.version),
                                [db_datetime(v.submitted_at), v.size, "", ""])
        if record.version is not None and (record.title or record.abstract):
            # Keep each version's own title and abstract, so earlier versions stay readable.
            key = (paper.pk, record.version)
            texts[key] = (record.title, record.abstract)
            versions.setdefault(key, [None, "", "", ""])[2:] = texts[key]
        known = batch.source_records.get((record.source, record.original_id))
        if known is None:
            new_sources[(record.source, record.original_id)] = (
                paper.pk, record.source, record.original_id, fetched_at, digest,
                record.upvotes, record.num_comments)
        else:
            known.paper_id, known.fetched_at, known.content_hash = paper.pk, now, digest
            known.upvotes, known.num_comments = record.upvotes, record.num_comments
            updated_sources.append(known)
    _store_texts_once(pending, batch, versions, texts)
    _insert_split(Paper.categories.through, ["paper_id", "category_id"], list(links), created)
    _insert_split(PaperVersion,
                  ["paper_id", "version", "submitted_at", "size", "title", "abstract"],
                  [(pk, version, *rest) for (pk, version), rest in versions.items()], created)
    update_rows(Paper, ["primary_category_id"], [(c, pk) for pk, c in primaries.items()])
    insert_rows(SourceRecord, ["paper_id", "source", "original_id", "fetched_at",
                               "content_hash", "upvotes", "num_comments"],
                list(new_sources.values()), on_conflict="raise")
    if updated_sources:
        SourceRecord.objects.bulk_update(
            updated_sources, ["paper", "fetched_at", "content_hash", "upvotes", "num_comments"]
        )
    # The rows of new papers were inserted with their texts.
    _update_version_texts({k: v for k, v in texts.items() if k[0] not in created})


def _store_texts_once(pending: list, batch: _Batch, versions: dict, texts: dict) -> None:
    """Keep a version's own text only while it differs from the paper's.

    The latest version's title and abstract are the paper's own, so its row stores
    them empty (a bulk import would otherwise write every abstract twice). A version
    that a newer one supersedes in this batch gets back the text the paper had.
    """
    papers = {paper.pk: paper for _, paper, _ in pending}
    for pk, paper in papers.items():
        latest, title, abstract = batch.original.get(pk, (None, "", ""))
        if latest is not None and latest != paper.latest_version and (pk, latest) not in texts:
            texts[(pk, latest)] = (title, abstract)
            versions.setdefault((pk, latest), [None, "", "", ""])[2:] = (title, abstract)
    for key, text in texts.items():
        paper = papers[key[0]]
        if key[1] == paper.latest_version and text == (paper.title, paper.abstract):
            texts[key] = ("", "")
            versions[key][2:] = ("", "")


def _insert_split(model, columns: list[str], rows: list[tuple], created: set[int]) -> None:
    """Insert rows whose first column is a paper pk: new papers' rows cannot conflict."""
    insert_rows(model, columns, [r for r in rows if r[0] in created], on_conflict="raise")
    insert_rows(model, columns, [r for r in rows if r[0] not in created])


def _update_version_texts(texts: dict[tuple[int, int], tuple[str, str]]) -> None:
    """Set the texts on version rows that existed before this batch (inserts were ignored)."""
    if not texts:
        return
    rows = PaperVersion.objects.filter(
        paper_id__in={pk for pk, _ in texts}, version__in={v for _, v in texts}
    ).only("pk", "paper_id", "version", "title", "abstract")
    changed = []
    for row in rows:
        wanted = texts.get((row.paper_id, row.version))
        if wanted is not None and (row.title, row.abstract) != wanted:
            row.title, row.abstract = wanted
            changed.append(row)
    if changed:
        PaperVersion.objects.bulk_update(changed, ["title", "abstract"], batch_size=200)
