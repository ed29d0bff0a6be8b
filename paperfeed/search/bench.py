"""``paperfeed bench search --papers N``: search latency, build time, size and memory at N papers.

Builds the keyword index (tantivy), the vector index (usearch) and, as the baseline, an
SQLite FTS5 table ranked by ``bm25()`` over the same N papers (see benchcorpus.py), then
measures queries in a *separate* process that only opens the built indexes, as a web
process would: its peak RSS is the serving memory. Queries are 1, 2 and 3 words drawn
from the corpus's own frequent title words (the hard case: long posting lists), ranked
by the site's own Engine. Latencies include embedding the query with MiniLM for the
dense and hybrid modes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from paperfeed.lib.benchmarks import DOC, peak_rss_mb, write_section
from paperfeed.search.vectors import EXPANSION_SEARCH

NAME = "search"
MORE = ("paperfeed.search.benchfollow",)  # `bench follow`
HELP = "Search latency (1-3 word queries per mode), build time, index size and RSS at N papers."
MODES = ("bm25", "hybrid", "dense")


def add_arguments(parser) -> None:
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100, help="queries per length and mode")
    parser.add_argument("--fts-queries", type=int, default=20,
                        help="queries per length for the (slow) FTS5 baseline")
    parser.add_argument("--dir", help="keep the built indexes here and reuse them next time")
    parser.add_argument("--no-dense", action="store_true", help="keyword only (no model)")
    parser.add_argument("--abstracts-limit", type=int, default=0,
                        help="use only the first N real abstracts per set (quick runs)")
    parser.add_argument("--sets", default="scifact,nfcorpus",
                        help="which real abstract sets to resample (comma-separated)")
    parser.add_argument("--cache-dir", help="embedding cache shared with `eval beir`")
    parser.add_argument("--recall-queries", type=int, default=200,
                        help="real queries for HNSW recall against exact search")
    parser.add_argument("--recall-only", action="store_true",
                        help="build only the vector index and measure its recall (and latency) "
                             "against exact search; writes its own section")
    parser.add_argument("--doc", default=str(DOC), help="markdown file to write the figures to")
    parser.add_argument("--measure-only", action="store_true", help=argparse_hidden())


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else path.rglob("*")
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


def _build(options: dict, directory: Path, built: dict, say) -> dict:
    """Build what ``built`` (from an earlier run in the same --dir) does not have yet."""
    from paperfeed.lib.benchmarks import SHARED
    from paperfeed.search import benchcorpus
    from paperfeed.search.keyword import KeywordIndex
    from paperfeed.search.vectors import VectorIndex

    n, dense = options["papers"], not options["no_dense"]
    sets = tuple(options["sets"].split(","))
    pool = benchcorpus.load_pool(SHARED, with_vectors=dense, cache_dir=options["cache_dir"],
                                 abstracts_limit=options["abstracts_limit"], sets=sets, say=say)
    built.update(papers=n, abstracts=len(pool.abstracts), sets=list(sets))
    if "keyword_build_s" not in built and not options["recall_only"]:
        started = time.monotonic()
        KeywordIndex(directory / "search" / "keyword").upsert(
            benchcorpus.documents(pool, n), threads=2, heap=400_000_000)
        built["keyword_build_s"] = time.monotonic() - started
        built["keyword_mb"] = _size_mb(directory / "search" / "keyword")
        say(f"keyword index: {built['keyword_build_s']:.0f} s, {built['keyword_mb']:.0f} MB")
        _save(directory, built)
    if "fts5_build_s" not in built and not options["recall_only"]:
        started = time.monotonic()
        _build_fts5(directory / "fts5.sqlite3", benchcorpus.documents(pool, n))
        built["fts5_build_s"] = time.monotonic() - started
        built["fts5_mb"] = _size_mb(directory / "fts5.sqlite3")
        say(f"FTS5 table: {built['fts5_build_s']:.0f} s, {built['fts5_mb']:.0f} MB")
        _save(directory, built)
    if dense and "vector_build_s" not in built:
        started = time.monotonic()
        VectorIndex(directory / "search" / "vectors").rebuild(
            benchcorpus.vectors(pool, n), total=n)
        built["vector_build_s"] = time.monotonic() - started
        built["vector_mb"] = _size_mb(directory / "search" / "vectors")
        say(f"vector index: {built['vector_build_s']:.0f} s, {built['vector_mb']:.0f} MB")
        built.pop("recall", None)
        _save(directory, built)
    if dense and {str(ef) for ef in RECALL_EFS} - set(built.get("recall", {})):
        built["recall"] = _recall(options, directory, pool, say)
    built["dense"] = dense
    built["build_peak_rss_mb"] = max(built.get("build_peak_rss_mb", 0), peak_rss_mb())
    _save(directory, built)
    return built


RECALL_K = 20
RECALL_EFS = (64, 128, 256, 512)  # beam widths measured; the site's is marked


def _real_queries(sets: tuple[str, ...], count: int, seed: int = 13) -> list[str]:
    """``count`` real questions from the BEIR sets' query files (the users' side of search)."""
    from paperfeed.lib.benchmarks import SHARED

    texts = []
    for name in sets:
        path = SHARED / "bench" / name / "queries.jsonl"
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    rng = np.random.default_rng(seed)
    return [texts[i] for i in sorted(rng.choice(len(texts), min(count, len(texts)), replace=False))]


def _exact_top(queries: np.ndarray, batches, k: int) -> np.ndarray:
    """Ids of the exact ``k`` nearest by cosine (best first), streaming the vectors."""
    best_ids = np.zeros((len(queries), 0), dtype=np.uint64)
    best = np.zeros((len(queries), 0), dtype=np.float32)
    for ids, vectors in batches:
        scores = np.hstack([best, queries @ vectors.T])
        pool_ids = np.hstack([best_ids, np.broadcast_to(ids, (len(queries), len(ids)))])
        keep = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best = np.take_along_axis(scores, keep, axis=1)
        best_ids = np.take_along_axis(pool_ids, keep, axis=1)
    order = np.argsort(-best, axis=1)  # best first
    return np.take_along_axis(best_ids, order, axis=1)


def _recall(options: dict, directory: Path, pool, say) -> dict:
    """Recall@10/@20 of the HNSW index against exact search over the same vectors.

    The queries are real questions (the BEIR sets' query files) embedded with the site's
    model; "exact" is a brute-force cosine scan of the same float32 vectors the index was
    built from, so the figure includes what f16 storage and the graph search lose.
    """
    from paperfeed.search import benchcorpus, embeddings
    from paperfeed.search.evaluation import _cached_vectors
    from paperfeed.search.vectors import VectorIndex

    texts = _real_queries(tuple(options["sets"].split(",")), options["recall_queries"])
    queries = _cached_vectors(texts, embeddings.configured_model(), options["cache_dir"], say)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    started = time.monotonic()
    exact = _exact_top(queries, benchcorpus.vectors(pool, options["papers"]), RECALL_K)
    say(f"exact top-{RECALL_K} of {len(queries)} queries: {time.monotonic() - started:.0f} s")
    index = VectorIndex(directory / "search" / "vectors").reader()
    found: dict = {"queries": len(queries)}
    for ef in RECALL_EFS:
        index.expansion_search = ef
        hits, times = [], []
        for vector in queries:
            started = time.perf_counter()
            hits.append(index.search(vector, RECALL_K).keys)
            times.append(time.perf_counter() - started)
        row = {"p50_ms": float(np.percentile(times, 50) * 1000),
               "p95_ms": float(np.percentile(times, 95) * 1000)}
        for k in (10, RECALL_K):
            row[f"recall@{k}"] = float(np.mean([
                len(set(h[:k].tolist()) & set(e[:k].tolist())) / k
                for h, e in zip(hits, exact, strict=True)]))
        found[str(ef)] = row
        say(f"HNSW ef={ef}: recall@10 {row['recall@10']:.3f}, recall@20 {row['recall@20']:.3f}")
    return found


def _save(directory: Path, built: dict) -> None:
    (directory / "built.json").write_text(json.dumps(built))


def _build_fts5(path: Path, docs) -> None:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, abstract, authors, "
               "tokenize='porter unicode61')")
    insert = "INSERT INTO docs(rowid, title, abstract, authors) VALUES (?,?,?,?)"
    batch = []
    for doc in docs:
        batch.append((doc.id, doc.title, doc.abstract, " ".join(doc.authors)))
        if len(batch) == 10_000:
            db.executemany(insert, batch)
            batch.clear()
    db.executemany(insert, batch)
    db.commit()
    db.close()


def _queries(directory: Path, per_length: int, seed: int = 11) -> dict[int, list[str]]:
    """Frequent title words of the corpus itself, as 1-, 2- and 3-word queries."""
    from paperfeed.lib.benchmarks import SHARED
    from paperfeed.search import benchcorpus

    pool = benchcorpus.load_pool(SHARED, with_vectors=False, cache_dir=directory)
    counts = Counter(w for title, *_ in pool.listings[:50_000]
                     for w in re.findall(r"[a-z]{4,}", title.lower()))
    stop = {"with", "from", "that", "this", "their", "using", "between", "into"}
    common = [w for w, _ in counts.most_common(600) if w not in stop]
    rng = np.random.default_rng(seed)
    return {k: [" ".join(rng.choice(common, k, replace=False)) for _ in range(per_length)]
            for k in (1, 2, 3)}


def _stats(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "n": len(samples)}


def _measure(options: dict, directory: Path) -> dict:
    from paperfeed.search.engine import Engine
    from paperfeed.search.query import parse_query

    queries = _queries(directory, options["queries"])
    engine = Engine(directory / "search")
    modes = ("bm25",) if options["no_dense"] else MODES
    if not options["no_dense"]:
        engine.rank(parse_query("warm up the model"), mode="hybrid")
    results: dict = {}
    for mode in modes:
        for k, texts in queries.items():
            times = []
            for text in texts:
                started = time.perf_counter()
                engine.rank(parse_query(text), mode=mode, limit=20)
                times.append(time.perf_counter() - started)
            results[f"{mode}/{k}"] = _stats(times)
    db = sqlite3.connect(directory / "fts5.sqlite3")
    for k, texts in queries.items():
        times = []
        for text in texts[:options["fts_queries"]]:
            match = " OR ".join(f'"{w}"' for w in text.split())
            started = time.perf_counter()
            db.execute("SELECT rowid, bm25(docs, 1.5, 1.0, 1.0) AS s FROM docs WHERE docs MATCH ? "
                       "ORDER BY s LIMIT 20", (match,)).fetchall()
            times.append(time.perf_counter() - started)
        results[f"fts5/{k}"] = _stats(times)
    results["serving_peak_rss_mb"] = peak_rss_mb()
    return results




def _markdown(built: dict, measured: dict) -> str:
    lines = [f"### Search at {built['papers']:,} papers", "",
             "`paperfeed bench search --papers N` (keyword = tantivy BM25; dense = MiniLM "
             "query embedding + usearch HNSW; hybrid = both, fused; baseline = SQLite FTS5 "
             "`ORDER BY bm25()` on the same papers, same queries). Latency in ms, top 20.", "",
             "| mode | words | p50 | p95 | p99 | p95 vs FTS5 |", "|---|---|---|---|---|---|"]
    for mode in ("bm25", "hybrid", "dense", "fts5"):
        for k in (1, 2, 3):
            row = measured.get(f"{mode}/{k}")
            if not row:
                continue
            base = measured[f"fts5/{k}"]["p95"]
            ratio = "1×" if mode == "fts5" else f"{base / row['p95']:.0f}× faster"
            lines.append(f"| {mode} | {k} | {row['p50']:.1f} | {row['p95']:.1f} | "
                         f"{row['p99']:.1f} | {ratio} |")
    lines += ["", "| build | time (s) | size (MB) |", "|---|---|---|",
              f"| tantivy keyword index | {built['keyword_build_s']:.0f} | {built['keyword_mb']:.0f} |",
              f"| SQLite FTS5 (baseline) | {built['fts5_build_s']:.0f} | {built['fts5_mb']:.0f} |"]
    if built.get("dense"):
        lines.append(f"| usearch HNSW (f16, M=16) | {built['vector_build_s']:.0f} | "
                     f"{built['vector_mb']:.0f} |")
    model = ", model loaded" if built.get("dense") else ""
    lines += ["", f"Peak RSS of the serving process (indexes opened{model}, all "
              f"queries run): **{measured['serving_peak_rss_mb']:.0f} MiB**; of the build "
              f"process: {built['build_peak_rss_mb']:.0f} MiB. Real abstracts resampled: "
              f"{built['abstracts']:,}."]
    return "\n".join(lines)


def _recall_markdown(built: dict) -> str:
    recall = built["recall"]
    lines = [f"### Vector search recall at {built['papers']:,} papers", "",
             f"`paperfeed bench search --papers N --recall-only`: the usearch HNSW index "
             f"(f16, M=16) against exact search (a brute-force cosine scan of the same float32 "
             f"vectors), for {recall['queries']} real questions from the BEIR query files "
             f"embedded with the site's model. Latency is the vector search alone (embedding "
             f"the query adds ~25 ms). Vectors are mixtures of two of {built['abstracts']:,} real "
             f"abstracts' embeddings plus noise, like the latency benchmark's.", "",
             "| expansion_search | recall@10 | recall@20 | p50 ms | p95 ms |",
             "|---|---|---|---|---|"]
    for ef in RECALL_EFS:
        row = recall[str(ef)]
        site = " (the site's)" if ef == EXPANSION_SEARCH else ""
        lines.append(f"| {ef}{site} | {row['recall@10']:.3f} | {row['recall@20']:.3f} | "
                     f"{row['p50_ms']:.2f} | {row['p95_ms']:.2f} |")
    return "\n".join(lines)


def run(options: dict, stdout) -> int:
    from django.conf import settings

    options["cache_dir"] = Path(options.get("cache_dir") or settings.DATA_DIR / "embedding-cache")
    keep = options.get("dir")
    directory = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="pf-bench-search-"))
    if options["measure_only"]:
        stdout.write(json.dumps(_measure(options, directory)))
        return 0

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    built_file = directory / "built.json"
    built = json.loads(built_file.read_text()) if built_file.exists() else {}
    if built and (built["papers"] != options["papers"]
                  or built["sets"] != options["sets"].split(",")):
        import shutil

        shutil.rmtree(directory)
        built = {}
    directory.mkdir(parents=True, exist_ok=True)
    built = _build(options, directory, built, say)
    if options["recall_only"]:
        markdown = _recall_markdown(built)
        write_section("search-recall", markdown, Path(options["doc"]))
        stdout.write(markdown)
        return 0
    argv = [sys.executable, "-m", "paperfeed.cli", "bench", "search", "--measure-only",
            "--dir", str(directory), "--papers", str(options["papers"]),
            "--queries", str(options["queries"]), "--fts-queries", str(options["fts_queries"]),
            "--cache-dir", str(options["cache_dir"])] + (["--no-dense"] if options["no_dense"] else [])
    say("measuring queries in a fresh process")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    markdown = _markdown(built, measured)
    write_section("search", markdown, Path(options["doc"]))
    if built.get("recall"):
        write_section("search-recall", _recall_markdown(built), Path(options["doc"]))
    stdout.write(markdown)
    stdout.write(json.dumps({"built": built, "measured": measured}))
    if not keep:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
    return 0
