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


def rebuild(engine: Engine, *, batch_size: int = 2000,
            progress: Callable[[str, int, int], None] | None = None) -> tuple[int, int]:
    """Rebuild both indexes from the database; returns (keyword docs, vectors)."""
    visible = Paper.objects.visible().order_by("pk")
    total = visible.count()
    engine.keyword.clear()
    done = 0
    pks = list(visible.values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        chunk = pks[start:start + batch_size]
        papers = Paper.objects.filter(pk__in=chunk).only(*_FIELDS).order_by("pk")
        done += engine.keyword.upsert(_docs(papers), threads=1, heap=128_000_000)
        if progress:
            progress("keywords", done, total)
    stored = PaperEmbedding.objects.for_model(engine.model_name).filter(
        paper__status=Paper.Status.VISIBLE)
    vector_total = stored.count()

    def batches():
        seen = 0
        for start in range(0, vector_total, batch_size):
            rows = list(stored.order_by("pk").values_list("paper_id", "vector")
                        [start:start + batch_size])
            seen += len(rows)
            if progress:
                progress("vectors", seen, vector_total)
            yield (np.array([r[0] for r in rows], dtype=np.uint64),
                   np.vstack([PaperEmbedding.unpack(r[1]) for r in rows]) if rows
                   else np.zeros((0, engine.vectors.ndim), np.float32))

    vectors = engine.vectors.rebuild(batches(), total=vector_total)
    return done, vectors
