"""Ranking: keyword (BM25), dense (embeddings) and hybrid, without touching the database.

The site, the CLI, the BEIR evaluation and the benchmark all rank through
:meth:`Engine.rank`, so the figures measured are the figures users get.

Hybrid: the union of the BM25 top ``POOL`` and the dense top ``POOL`` is re-scored with
both signals (the exact BM25 score of a dense-only candidate and the exact cosine of a
keyword-only one), each min-max normalised over the pool, and mixed as
``w * bm25 + (1 - w) * cosine``. A paper without an embedding yet keeps its keyword score
and still ranks. See docs/search.md for the measurements behind these choices.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paperfeed.search import embeddings
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.query import ParsedQuery
from paperfeed.search.vectors import VectorIndex

log = logging.getLogger("paperfeed.search")

MODES = ("bm25", "dense", "hybrid")
POOL = 100  # candidates taken from each side for hybrid fusion
DENSE_MAX = 1000  # dense results reachable by paging (a vector search has no "all matches")
QUERY_CACHE_SIZE = 2048  # query vectors kept per process (1.5 KB each)

_query_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_query_lock = threading.Lock()


@dataclass
class Hit:
    paper_id: int
    score: float


@dataclass
class SearchResults:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    message: str | None = None
    mode: str = "hybrid"


class Engine:
    def __init__(self, directory: Path, model_name: str | None = None,
                 hybrid_weight: float = 0.5):
        self.directory = Path(directory)
        self.keyword = KeywordIndex(self.directory / "keyword")
        self.vectors = VectorIndex(self.directory / "vectors")
        self.model_name = model_name or embeddings.configured_model()
        self.hybrid_weight = hybrid_weight

    def version(self) -> str:
        """A name for the indexes' current contents: it changes with every commit to
        either (by any process on this host), so what was computed from them can be
        cached under it."""
        state = f"{self.directory}:{self.keyword.stamp()}:{self.vectors.stamp()}"
        return hashlib.blake2b(state.encode(), digest_size=8).hexdigest()

    def embed_query(self, text: str) -> np.ndarray | None:
        """The query's vector; the last QUERY_CACHE_SIZE queries' are kept in this process
        (embedding a short query costs tens of ms of CPU, most of a search request, and
        readers repeat each other's queries)."""
        key = (self.model_name, text)
        with _query_lock:
            cached = _query_vectors.get(key)
            if cached is not None:
                _query_vectors.move_to_end(key)
                return cached
        try:
            vector = embeddings.embed_query(text, self.model_name)
        except Exception:  # a missing or broken model must not take search down
            log.exception("could not embed the query with %s", self.model_name)
            return None
        vector.setflags(write=False)  # shared by every request that asks the same
        with _query_lock:
            _query_vectors[key] = vector
            while len(_query_vectors) > QUERY_CACHE_SIZE:
                _query_vectors.popitem(last=False)
        return vector

    def rank(self, parsed: ParsedQuery, *, mode: str = "hybrid", limit: int = 20,
             offset: int = 0, filters: dict | None = None,
             newest: bool = False) -> SearchResults:
        if mode not in MODES:
            return SearchResults(message=f"Unknown search mode {mode!r}; use one of "
                                         f"{', '.join(MODES)}.", mode=mode)
        if parsed.is_empty and not filters:
            return SearchResults(message="Type a few words to search titles, abstracts and "
                                         "authors.", mode=mode)
        if not parsed.has_text or mode == "bm25" or newest:
            # Without words there is nothing semantic to compare; "newest" orders every
            # match by date, which only the keyword index can enumerate.
            hits, total = self.keyword.search(parsed, filters, limit=limit, offset=offset,
                                              newest=newest)
            return SearchResults([Hit(i, s) for i, s in hits], total, _no_match(total), "bm25"
                                 if mode != "bm25" and not parsed.has_text else mode)
        if len(self.vectors) == 0:
            # No embeddings yet (a fresh install): keywords still find everything.
            hits, total = self.keyword.search(parsed, filters, limit=limit, offset=offset)
            return SearchResults([Hit(i, s) for i, s in hits], total, _no_match(total),
                                 "bm25")
        query_vector = self.embed_query(parsed.text)
        if query_vector is None:
            hits, total = self.keyword.search(parsed, filters, limit=limit, offset=offset)
            return SearchResults([Hit(i, s) for i, s in hits], total, _no_match(total),
                                 "bm25")
        constraint = self.keyword.constraint_query(parsed, filters)
        if mode == "dense":
            ranked = self._dense(query_vector, constraint, max(offset + limit, DENSE_MAX))
        else:
            ranked = self._hybrid(parsed, filters, query_vector, constraint,
                                  max(POOL, offset + limit))
        page = ranked[offset:offset + limit]
        return SearchResults([Hit(i, s) for i, s in page], len(ranked),
                             _no_match(len(ranked)), mode)

    def _dense(self, vector: np.ndarray, constraint, k: int) -> list[tuple[int, float]]:
        # Filters are applied after the vector search, so ask for more when filtering.
        found = self.vectors.search(vector, k * 4 if constraint is not None else k)
        if constraint is not None:
            allowed = self.keyword.allowed([i for i, _ in found], constraint)
            found = [(i, s) for i, s in found if i in allowed]
        return found[:k]

    def _hybrid(self, parsed: ParsedQuery, filters: dict | None, vector: np.ndarray,
                constraint, pool: int) -> list[tuple[int, float]]:
        keyword_hits, _ = self.keyword.search(parsed, filters, limit=pool)
        dense_hits = self._dense(vector, constraint, pool)
        bm25 = dict(keyword_hits)
        cosine = dict(dense_hits)
        dense_only = [i for i in cosine if i not in bm25]
        bm25.update(self.keyword.scores_for(parsed, dense_only))
        missing = [i for i in bm25 if i not in cosine]
        for pid, vec in self.vectors.get(missing).items():
            cosine[pid] = float(np.dot(vec, vector))
        candidates = list(dict.fromkeys([i for i, _ in keyword_hits] + [i for i, _ in dense_hits]))
        if not candidates:
            return []
        b = _minmax(np.array([bm25.get(i, 0.0) for i in candidates]))
        c_raw = np.array([cosine.get(i, np.nan) for i in candidates])
        # A paper not embedded yet gets the pool's lowest cosine, not a penalty below it.
        floor = np.nanmin(c_raw) if not np.all(np.isnan(c_raw)) else 0.0
        c = _minmax(np.where(np.isnan(c_raw), floor, c_raw))
        w = self.hybrid_weight
        fused = w * b + (1.0 - w) * c
        order = np.argsort(-fused, kind="stable")
        return [(candidates[j], float(fused[j])) for j in order]


def _minmax(values: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def _no_match(total: int) -> str | None:
    return None if total else "No papers match. Try fewer or different words."
