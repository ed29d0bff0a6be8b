"""The vector index: nearest papers by embedding, kept in a usearch (HNSW) file.

The embeddings themselves live in the database (``PaperEmbedding``) so they survive
anything that happens to this folder; the file here is a derived index that
``paperfeed reindex`` can rebuild without running the model again.

Concurrency: writers take an ``flock`` on ``vectors.lock``, load the file, add, and
write a new file that replaces the old one atomically (``os.replace``); readers map the
file read-only (``view``) and re-map it when its modification time changes, so every
web process sees a finished index, never a half-written one.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from usearch.index import Index

# Below this many vectors an exhaustive scan is as fast as the graph and exact.
EXACT_BELOW = 20_000
# HNSW beam width per query. At 500k papers recall@10 against exact search is 0.909 at
# 64, 0.943 at 128 and 0.977 at 256, for +3.5 ms on a query that spends ~25 ms embedding
# itself (docs/benchmarks.md, "Vector search recall").
EXPANSION_SEARCH = 256
DTYPE = "f16"  # half the memory of f32; loses nothing measurable in cosine ranking


class VectorIndex:
    def __init__(self, directory: Path, ndim: int = 384):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "vectors.usearch"
        self.ndim = ndim
        self._index: Index | None = None
        self._stamp: int | None = None
        self._lock = threading.Lock()

    def _new(self) -> Index:
        return Index(ndim=self.ndim, metric="cos", dtype=DTYPE, connectivity=16,
                     expansion_add=128, expansion_search=EXPANSION_SEARCH)

    def _file_stamp(self) -> int | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return None

    def reader(self) -> Index | None:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                self._index = Index.restore(str(self.path), view=True) if stamp else None
                if self._index is not None and self._index.ndim != self.ndim:
                    self.ndim = self._index.ndim
                self._stamp = stamp
        return self._index

    def __len__(self) -> int:
        index = self.reader()
        return 0 if index is None else len(index)

    @contextmanager
    def _writing(self) -> Iterator[Index]:
        with open(self.directory / "vectors.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            index = Index.restore(str(self.path)) if self.path.exists() else self._new()
            yield index
            tmp = self.path.with_suffix(".tmp")
            index.save(str(tmp))
            os.replace(tmp, self.path)

    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Insert or replace these vectors (one batch, one new file)."""
        keys = np.asarray(ids, dtype=np.uint64)
        if not len(keys):
            return
        with self._writing() as index:
            present = [k for k in keys if k in index]
            if present:
                index.remove(np.asarray(present, dtype=np.uint64))
            index.add(keys, np.asarray(vectors, dtype=np.float32))

    def remove(self, ids: list[int]) -> None:
        if not ids or not self.path.exists():
            return
        with self._writing() as index:
            present = [k for k in ids if k in index]
            if present:
                index.remove(np.asarray(present, dtype=np.uint64))

    def rebuild(self, batches, total: int | None = None) -> int:
        """Replace the whole file with the vectors ``batches`` yields as (ids, vectors)."""
        with open(self.directory / "vectors.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            index = self._new()
            if total:
                index.reserve(total) if hasattr(index, "reserve") else None
            for ids, vectors in batches:
                if len(ids):
                    index.add(np.asarray(ids, dtype=np.uint64),
                              np.asarray(vectors, dtype=np.float32))
            tmp = self.path.with_suffix(".tmp")
            index.save(str(tmp))
            os.replace(tmp, self.path)
            return len(index)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine similarity) of the ``k`` nearest, best first."""
        index = self.reader()
        if index is None or len(index) == 0 or k <= 0:
            return []
        matches = index.search(np.asarray(vector, dtype=np.float32), min(k, len(index)),
                               exact=len(index) < EXACT_BELOW)
        return [(int(key), 1.0 - float(dist))
                for key, dist in zip(matches.keys, matches.distances, strict=True)]

    def get(self, ids: list[int]) -> dict[int, np.ndarray]:
        index = self.reader()
        if index is None or not ids:
            return {}
        found = index.get(np.asarray(ids, dtype=np.uint64))
        return {pid: np.asarray(v, dtype=np.float32)
                for pid, v in zip(ids, found, strict=True) if v is not None}
