"""An N-paper corpus for the search benchmark, built from real records.

Titles, authors, categories and dates come from the 140k real arXiv listing records in
``shared/bench/arxiv-listings``; abstracts are real abstracts (SciFact, NFCorpus, the
arXiv ``.abs`` fixtures) resampled: the first half of one and the second half of
another, so a million papers have a million distinct abstracts with real word
statistics. A paper's vector is the normalised mix of its two source abstracts' real
MiniLM vectors plus a little noise (embedding a million abstracts with MiniLM would take
~18 hours here); the nearest-neighbour structure stays that of real embeddings.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperfeed.search import embeddings
from paperfeed.search.keyword import KeywordDoc


@dataclass
class Pool:
    listings: list[tuple[str, list[str], list[str], int]]  # title, authors, categories, day
    abstracts: list[str]
    vectors: np.ndarray | None  # one row per abstract, or None for keyword-only runs


def _jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _day(record: dict) -> int:
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(record["versions"][0]["date"])
        return int(when.strftime("%Y%m%d"))
    except (KeyError, IndexError, TypeError, ValueError):
        return 0


def load_pool(shared: Path, *, with_vectors: bool, cache_dir: Path, abstracts_limit: int = 0,
              sets: tuple[str, ...] = ("scifact", "nfcorpus"), say=lambda _: None) -> Pool:
    listings = []
    for path in sorted((shared / "bench" / "arxiv-listings").glob("*.jsonl.gz")):
        for r in _jsonl(path):
            authors = [a.strip() for a in r.get("authors", "").replace(" and ", ", ").split(",")]
            listings.append((r.get("title", ""), [a for a in authors if a],
                             r.get("categories", "").split(), _day(r)))
    texts, abstracts = [], []
    for name in sets:
        corpus = shared / "bench" / name / "corpus.jsonl"
        if corpus.exists():
            docs = list(_jsonl(corpus))
            if abstracts_limit:
                docs = docs[:abstracts_limit]
            abstracts += [d.get("text", "") for d in docs]
            # Same texts as `eval beir` embeds, so its embedding cache is reused here.
            texts.append([embeddings.paper_text(d.get("title", ""), d.get("text", ""))
                          for d in docs])
    vectors = None
    if with_vectors:
        from paperfeed.search.evaluation import _cached_vectors

        vectors = np.vstack([_cached_vectors(t, embeddings.configured_model(), cache_dir, say)
                             for t in texts])
    return Pool(listings, abstracts, vectors)


def _halves(text: str) -> tuple[str, str]:
    middle = len(text) // 2
    cut = text.find(". ", middle)
    cut = middle if cut < 0 else cut + 2
    return text[:cut], text[cut:]


def documents(pool: Pool, n: int, seed: int = 7) -> Iterator[KeywordDoc]:
    rng = np.random.default_rng(seed)
    for start in range(0, n, 10_000):
        size = min(10_000, n - start)
        firsts = rng.integers(0, len(pool.abstracts), size)
        seconds = rng.integers(0, len(pool.abstracts), size)
        for j in range(size):
            i = start + j
            title, authors, categories, day = pool.listings[i % len(pool.listings)]
            head, _ = _halves(pool.abstracts[firsts[j]])
            _, tail = _halves(pool.abstracts[seconds[j]])
            yield KeywordDoc(id=i + 1, title=title, abstract=head + tail, authors=authors,
                             categories=categories, day=day)


def vectors(pool: Pool, n: int, seed: int = 7, batch: int = 50_000
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) batches matching :func:`documents` (same seed, same sources)."""
    rng = np.random.default_rng(seed)
    noise = np.random.default_rng(seed + 1)
    assert pool.vectors is not None
    firsts_all, seconds_all = [], []
    for start in range(0, n, 10_000):
        size = min(10_000, n - start)
        firsts_all.append(rng.integers(0, len(pool.abstracts), size))
        seconds_all.append(rng.integers(0, len(pool.abstracts), size))
    firsts, seconds = np.concatenate(firsts_all), np.concatenate(seconds_all)
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        mixed = pool.vectors[firsts[start:stop]] + pool.vectors[seconds[start:stop]]
        mixed += noise.normal(0, 0.02, mixed.shape).astype(np.float32)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        yield np.arange(start + 1, stop + 1, dtype=np.uint64), mixed.astype(np.float32)
