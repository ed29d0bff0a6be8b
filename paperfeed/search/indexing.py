"""Keeping the indexes in step with the database: applying changes, embeddings, rebuilds.

* ``index_papers`` brings given papers up to date in both local indexes; the follower
  (``follower.py``) calls it for each entry of the core's change log.
* ``papers_changed`` (sent after commit) drops embeddings whose text changed, so the
  embedding worker redoes them.
* ``paperfeed embed`` (the background worker) embeds papers that have no embedding yet,
  oldest first, in batches it commits one by one (each with a change-log entry):
  stopping and starting again resumes.
* ``paperfeed reindex`` rebuilds both indexes from the database (no model needed: the
  vectors are read back from ``PaperEmbedding``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from django.db import connection, transaction

from paperfeed.papers import changelog
from paperfeed.papers.bulk import values_in
from paperfeed.papers.models import Paper
from paperfeed.search import embeddings
from paperfeed.search.engine import Engine
from paperfeed.search.keyword import KeywordDoc
from paperfeed.search.models import PaperEmbedding

log = logging.getLogger("paperfeed.search")

_FIELDS = ("id", "title", "abstract", "authors", "published_on", "feed_date", "status")


def _keyword_doc(paper, categories: list[str]) -> KeywordDoc:
    """``paper``: a Paper or a named row of ``_FIELDS``."""
    # Listing pages often give only the day a paper entered the feed.
    date = paper.published_on or paper.feed_date
    day = date.year * 10_000 + date.month * 100 + date.day if date else 0
    return KeywordDoc(id=paper.id, title=paper.title, abstract=paper.abstract,
                      authors=list(paper.authors or []), categories=categories, day=day)


def _categories_of(ids: list[int]) -> dict[int, list[str]]:
    # values_in, not filter(paper_id__in=…): a catch-up asks for 5,000 ids a page, and
    # building and parsing that IN list took longer than the query.
    found: dict[int, list[str]] = {}
    for paper_id, code in values_in(Paper.categories.through, "paper_id, category_id",
                                    "paper_id", ids):
        found.setdefault(paper_id, []).append(code)
    return found


def _docs(papers: Iterable) -> Iterator[KeywordDoc]:
    papers = list(papers)
    categories = _categories_of([p.id for p in papers])
    for paper in papers:
        yield _keyword_doc(paper, categories.get(paper.id, []))


def index_papers(engine: Engine, paper_ids: list[int], *, page: int = 5000) -> int:
    """Make both indexes show these papers as the database has them now (idempotent).

    Visible papers are (re)written to the keyword index, and their stored vector to the
    vector index; hidden, withdrawn or deleted papers leave both, and so does the vector
    of a paper whose embedding was dropped (its text changed). Reading the current rows
    is what makes replaying a change-log entry harmless. Returns the papers indexed.
    """
    ids = sorted(set(paper_ids))
    visible, gone = [], []
    for start in range(0, len(ids), page):
        chunk = ids[start:start + page]
        rows = Paper.objects.filter(pk__in=chunk).values_list(*_FIELDS, named=True)
        shown = [p for p in rows if p.status == Paper.Status.VISIBLE]
        visible += shown
        gone += sorted(set(chunk) - {p.id for p in shown})
    count = engine.keyword.upsert(_docs(visible), delete_ids=gone)
    stored = dict(values_in(PaperEmbedding, "paper_id, vector", "paper_id",
                            [p.id for p in visible], "model = %s AND ", [engine.model_name]))
    keys = sorted(stored)
    vectors = (np.vstack([PaperEmbedding.unpack(stored[k]) for k in keys]) if keys
               else np.zeros((0, engine.vectors.ndim), np.float32))
    unembedded = [p.id for p in visible if p.id not in stored]
    engine.vectors.update(keys, vectors, remove=gone + unembedded)
    return count


def drop_stale_embeddings(paper_ids: list[int], model: str) -> list[int]:
    """Drop the embeddings of these papers whose text changed since (logged for followers)."""
    papers = Paper.objects.filter(pk__in=paper_ids, search_embedding__isnull=False).values_list(
        "id", "title", "abstract", named=True)
    return _drop_stale_embeddings(list(papers), model)


def drop_stale_embeddings_since(since, model: str, page: int = 5000) -> int:
    """``drop_stale_embeddings`` for every embedded paper changed since ``since``."""
    ids = list(PaperEmbedding.objects.filter(paper__updated_at__gte=since)
               .values_list("paper_id", flat=True))
    return sum(len(drop_stale_embeddings(ids[i:i + page], model))
               for i in range(0, len(ids), page))


def _drop_stale_embeddings(papers: list, model: str) -> list[int]:
    """Drop embeddings of another model or of an older text (only embedded papers are hashed)."""
    by_id = {p.id: p for p in papers}
    stale = []
    for pid, digest, embedded_with in values_in(PaperEmbedding, "paper_id, text_hash, model",
                                                "paper_id", by_id):
        paper = by_id[pid]
        text = embeddings.paper_text(paper.title, paper.abstract)
        if embedded_with != model or embeddings.text_hash(text) != digest:
            stale.append(pid)
    if stale:
        with transaction.atomic():
            PaperEmbedding.objects.filter(pk__in=stale).delete()
            changelog.record(stale)
    return stale


def pending_embeddings(model: str):
    """Visible papers with no embedding under ``model``, oldest first (so runs resume)."""
    done = PaperEmbedding.objects.for_model(model).values("paper_id")
    return Paper.objects.visible().exclude(pk__in=done).order_by("pk")


# The first key of the embedding workers' advisory locks (the second is the paper id).
_EMBED_LOCKS = 0x70660001


@contextmanager
def _claimed(model: str, size: int) -> Iterator[list]:
    """Up to ``size`` pending papers no other embedding worker holds, held until the end.

    Workers on several hosts split the work through PostgreSQL advisory locks, one per
    paper, rather than ``SELECT … FOR UPDATE SKIP LOCKED``: locking rows would give the
    worker's transaction an id for the whole time the model runs, and the change log's
    readers wait for every such transaction (papers/changelog.py). A paper is checked
    again once locked, because another worker may have finished it just before.
    """
    pending = pending_embeddings(model).only("id", "title", "abstract")
    if connection.vendor != "postgresql":  # one writer: nothing to split
        yield list(pending[:size])
        return
    claimed: list = []
    last = 0
    try:
        with connection.cursor() as cursor:
            while len(claimed) < size and (page := list(pending.filter(pk__gt=last)[:size * 4])):
                last = page[-1].pk
                for paper in page:
                    cursor.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)",
                                   [_EMBED_LOCKS, paper.pk])
                    if cursor.fetchone()[0]:
                        claimed.append(paper)
                        if len(claimed) == size:
                            break
                finished = set(PaperEmbedding.objects.for_model(model).filter(
                    pk__in=[p.pk for p in claimed]).values_list("pk", flat=True))
                if finished:
                    _unlock([p.pk for p in claimed if p.pk in finished])
                    claimed = [p for p in claimed if p.pk not in finished]
        yield claimed
    finally:
        _unlock([p.pk for p in claimed])


def _unlock(paper_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        for pk in paper_ids:
            cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", [_EMBED_LOCKS, pk])


def embed_pending(engine: Engine, *, batch_size: int = 64, limit: int | None = None,
                  progress: Callable[[int], None] | None = None) -> int:
    """Embed papers that lack a vector, commit each batch, add it to the vector index."""
    from paperfeed.search import follower

    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        with _claimed(engine.model_name, size) as papers:
            if not papers:
                break
            texts = [embeddings.paper_text(p.title, p.abstract) for p in papers]
            vectors = embeddings.embed(texts, engine.model_name)
            rows = [PaperEmbedding(paper_id=p.pk, model=engine.model_name,
                                   text_hash=embeddings.text_hash(t),
                                   vector=PaperEmbedding.pack(v))
                    for p, t, v in zip(papers, texts, vectors, strict=True)]
            with transaction.atomic():
                PaperEmbedding.objects.filter(pk__in=[p.pk for p in papers]).delete()
                PaperEmbedding.objects.bulk_create(rows)
                # Every host's follower adds the new vectors to its own index.
                changelog.record([p.pk for p in papers])
        follower.catch_up_here(engine, wait=False)
        done += len(papers)
        if progress is not None:
            progress(len(papers))
    return done


# A rebuild's keyword writer: tantivy indexes with this many threads, flushing a segment
# whenever the heap (shared by the threads) fills. Bounded memory, and ~4x fewer segment
# flushes than the 64 MB of an ordinary write.
REBUILD_HEAP = 256_000_000
REBUILD_PAGE = 5000  # papers read per query (keyset pages: no OFFSET, no long transaction)
REBUILD_VECTOR_BATCH = 20_000  # vectors handed to usearch per add (all cores)


def rebuild(engine: Engine, *, batch_size: int = REBUILD_PAGE,
            progress: Callable[[str, int, int], None] | None = None) -> tuple[int, int]:
    """Rebuild both indexes from the database; returns (keyword docs, vectors).

    Streams the rows in keyset pages (memory stays bounded at millions of papers): the
    keyword index is rewritten by one writer in one commit, the vectors (decoded from
    the stored float16 bytes a page at a time, no model) are added to one new base in
    large batches on every core.
    """
    import os

    total = Paper.objects.visible().count()
    done = 0

    def docs() -> Iterator[KeywordDoc]:
        nonlocal done
        for page in _pages(Paper.objects.visible().values_list(*_FIELDS, named=True),
                           "id", batch_size):
            categories = _categories_of([p.id for p in page])
            for paper in page:
                yield _keyword_doc(paper, categories.get(paper.id, []))
            done += len(page)
            if progress:
                progress("keywords", done, total)

    threads = max(1, min(4, os.cpu_count() or 1))
    started = time.monotonic()
    engine.keyword.replace_all(docs(), threads=threads, heap=REBUILD_HEAP)
    keyword_s = time.monotonic() - started
    stored = PaperEmbedding.objects.for_model(engine.model_name).filter(
        paper__status=Paper.Status.VISIBLE).values_list("paper_id", "vector")
    vector_total = PaperEmbedding.objects.for_model(engine.model_name).filter(
        paper__status=Paper.Status.VISIBLE).count() if progress else 0

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        seen = 0
        ids: list[int] = []
        blobs: list[bytes] = []
        for page in _pages(stored, "paper_id", batch_size):
            ids += [row[0] for row in page]
            blobs += [bytes(row[1]) for row in page]
            if len(ids) >= REBUILD_VECTOR_BATCH:
                seen += len(ids)
                yield _decoded(ids, blobs)
                ids, blobs = [], []
                if progress:
                    progress("vectors", seen, vector_total)
        if ids:
            yield _decoded(ids, blobs)
            if progress:
                progress("vectors", seen + len(ids), vector_total)

    started = time.monotonic()
    vectors = engine.vectors.rebuild(batches())
    log.info("rebuilt %s: keyword index: %d documents in %.1f s; vector index: %d vectors in "
             "%.1f s", engine.directory, done, keyword_s, vectors, time.monotonic() - started)
    return done, vectors


def _pages(rows, key: str, size: int) -> Iterator[list]:
    """``rows`` (a values_list query) in pages of ``size`` ordered by ``key``, each page one
    short query from where the last ended (``key > last``): no OFFSET to skip over, and
    no transaction held open while the caller indexes."""
    last = None
    while True:
        query = rows.order_by(key)
        if last is not None:
            query = query.filter(**{f"{key}__gt": last})
        page = list(query[:size])
        if not page:
            return
        yield page
        last = page[-1][0]


def _decoded(ids: list[int], blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The stored float16 vectors of ``ids`` as one float32 matrix (one decode, not one
    per row)."""
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(ids), -1)
    return np.asarray(ids, dtype=np.uint64), matrix.astype(np.float32)
