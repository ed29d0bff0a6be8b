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
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields

from django.db import connection, transaction
from django.db.models import DateField, DateTimeField, JSONField
from django.utils import timezone

from paperfeed.lib.text import title_key, title_slug, web_url
from paperfeed.papers.models import Category, Paper, PaperVersion, SourceRecord
from paperfeed.papers.records import PaperRecord, VersionRecord
from paperfeed.papers.signals import papers_changed

# Slugs that would shadow a page under /papers/ (the detail URL is /papers/<slug>).
RESERVED_SLUGS = frozenset({"trending", "all", "go", "date", "week", "month", "search",
                            "submit", "feeds", "for-you", "more-like", "rss", "atom", "api"})
_URL_FIELDS = frozenset({"pdf_url", "code_url", "project_url"})
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
        # find() matches a title only when one side has no arXiv id: records with an
        # id need only title matches among papers without one. That keeps a bulk
        # back-fill from loading every paper that shares a title with the batch.
        keys_any = {title_key(r.title) for r in records if not r.arxiv_id}
        keys_unnumbered = {title_key(r.title) for r in records if r.arxiv_id} - keys_any
        paper_ids = {sr.paper_id for sr in self.source_records.values()}
        papers = list(Paper.objects.filter(arxiv_id__in=arxiv_ids)) if arxiv_ids else []
        if keys_any:
            papers += Paper.objects.filter(title_key__in=keys_any).exclude(
                arxiv_id__in=arxiv_ids)
        if keys_unnumbered:
            papers += Paper.objects.filter(title_key__in=keys_unnumbered, arxiv_id__isnull=True)
        missing = paper_ids - {p.pk for p in papers}
        if missing:
            papers += Paper.objects.filter(pk__in=missing)
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


_RECORD_FIELDS = tuple(f.name for f in fields(PaperRecord))
_VERSION_FIELDS = tuple(f.name for f in fields(VersionRecord))


def _content_hash(record: PaperRecord) -> str:
    """``record.content_hash()``, several times faster: the same digest without ``asdict``.

    ``asdict`` deep-copies every field, which dominated bulk imports; the payload built
    here serialises to exactly the same JSON (tests/test_merge.py checks they agree).
    """
    payload = {name: getattr(record, name) for name in _RECORD_FIELDS}
    payload["versions"] = [{n: getattr(v, n) for n in _VERSION_FIELDS} for v in record.versions]
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


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
        if name in _URL_FIELDS:
            value = web_url(value)
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
        codes = {c for record in records for c in record.categories}
        if codes:
            # First, so new papers can be inserted with their primary category set.
            _ensure_categories(codes)
        batch = _Batch(records)
        new_papers: list[Paper] = []
        changed: dict[int, Paper] = {}
        pending: list[tuple[PaperRecord, Paper, str]] = []  # record, paper, content hash
        for record in records:
            digest = _content_hash(record)
            known = batch.source_records.get((record.source, record.original_id))
            if known is not None and known.content_hash == digest:
                stats.skipped += 1
                continue
            paper = batch.find(record)
            if paper is None:
                paper = Paper(title="", title_key="", slug=batch.unique_slug(record),
                              primary_category_id=record.categories[0] if record.categories
                              else None)
                _merge_into(paper, record)
                batch.register(paper)
                new_papers.append(paper)
                stats.new += 1
            else:
                is_new = paper.pk is None
                if _merge_into(paper, record) or known is None:
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

        _insert_papers(new_papers, now)
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
    # Plain rows, not model instances: see _insert_rows.
    links: list[tuple] = []
    # Keyed so that a record repeated inside one batch (a cross-listed paper appears
    # in several listings) leaves one provenance row, the last one's.
    new_sources: dict[tuple[str, str], tuple] = {}
    updated_sources: list[SourceRecord] = []
    fetched_at = _db_datetime(now)
    # (paper pk, version) -> [submitted_at, size, title, abstract]: the first record's
    # metadata, the last record's texts.
    versions: dict[tuple[int, int], list] = {}
    texts: dict[tuple[int, int], tuple[str, str]] = {}
    primaries: dict[int, Paper] = {}
    for record, paper, digest in pending:
        for code in record.categories:
            links.append((paper.pk, code))
        if record.categories and paper.primary_category_id is None:
            paper.primary_category_id = record.categories[0]
            primaries[paper.pk] = paper
        for v in record.versions:
            versions.setdefault((paper.pk, v.version),
                                [_db_datetime(v.submitted_at), v.size, "", ""])
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
            known.paper, known.fetched_at, known.content_hash = paper, now, digest
            known.upvotes, known.num_comments = record.upvotes, record.num_comments
            updated_sources.append(known)
    _insert_rows(Paper.categories.through, ["paper_id", "category_id"], links)
    _insert_rows(PaperVersion, ["paper_id", "version", "submitted_at", "size", "title", "abstract"],
                 [(pk, version, *rest) for (pk, version), rest in versions.items()])
    if primaries:
        Paper.objects.bulk_update(list(primaries.values()), ["primary_category"])
    _insert_rows(SourceRecord, ["paper_id", "source", "original_id", "fetched_at",
                                "content_hash", "upvotes", "num_comments"],
                 list(new_sources.values()), ignore_conflicts=False)
    if updated_sources:
        SourceRecord.objects.bulk_update(
            updated_sources, ["paper", "fetched_at", "content_hash", "upvotes", "num_comments"]
        )
    _update_version_texts(texts)


def _db_datetime(value: dt.datetime | None):
    return connection.ops.adapt_datetimefield_value(value) if value is not None else None


def _paper_columns() -> list[tuple[str, str, object]]:
    """(attribute, column, converter) of every concrete Paper field but the id."""
    columns = []
    for f in Paper._meta.concrete_fields:
        if f.primary_key:
            continue
        if isinstance(f, JSONField):
            convert = json.dumps
        elif isinstance(f, DateTimeField):
            convert = _db_datetime
        elif isinstance(f, DateField):
            convert = connection.ops.adapt_datefield_value
        else:
            convert = None
        columns.append((f.attname, f.column, convert))
    return columns


def _insert_papers(papers: list[Paper], now: dt.datetime) -> None:
    """Insert new papers and set their pks; the bulk equivalent of ``bulk_create``.

    Preparing ~35 fields per paper through the ORM was the largest cost of a bulk
    import. The values here are the instances' own (defaults applied by ``Paper()``);
    only JSON and dates need converting. Pks come back by slug, which is unique.
    """
    if not papers:
        return
    for paper in papers:
        paper.created_at = paper.updated_at = now
    columns = _paper_columns()
    rows = [
        tuple(convert(getattr(p, attname)) if convert and getattr(p, attname) is not None
              else getattr(p, attname) for attname, _, convert in columns)
        for p in papers
    ]
    _insert_rows(Paper, [column for _, column, _ in columns], rows, ignore_conflicts=False)
    by_slug = {p.slug: p for p in papers}
    slugs = list(by_slug)
    for i in range(0, len(slugs), 500):  # SQLite caps the parameters of one query
        for pk, slug in Paper.objects.filter(slug__in=slugs[i:i + 500]).values_list("pk", "slug"):
            paper = by_slug[slug]
            paper.pk = pk
            paper._state.adding = False


def _insert_rows(model, columns: list[str], rows: list[tuple],
                 ignore_conflicts: bool = True) -> None:
    """INSERT many plain rows with one prepared statement.

    ``bulk_create`` builds and prepares a model instance per row; for the link, version
    and provenance rows of a bulk import that overhead was most of the import time.
    These rows have no defaults or signals, so plain parameters are equivalent.
    ``ON CONFLICT DO NOTHING`` works on both SQLite (>= 3.24) and PostgreSQL.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} "
           f"({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


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
