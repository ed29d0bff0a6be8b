"""``paperfeed bench follow``: the change log and its followers, measured.

* Vector add cost: adding a batch of vectors to an index of N synthetic vectors, as the
  index was written before (load the whole file, add, write it all back) and now (one
  segment), plus what a reader pays to see the new segment.
* Bootstrap: a new host with an empty folder at N papers (with stored vectors) on a
  scratch PostgreSQL database, as ``paperfeed index follow`` runs it.
* Follower lag: another process ingests papers at a steady rate (default 10,000 a
  minute, batches of 100 through the normal merge) while ``paperfeed index follow
  --loop`` runs on a second data directory; the lag of a batch is the time from its
  commit until its marker word is found in the follower's keyword index.

Run as ``python -m paperfeed.search.benchfollow seed N | ingest RATE SECONDS LOG`` in the
scratch database's environment for the helper steps.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paperfeed.lib.benchmarks import DOC, write_section

NAME = "follow"
HELP = ("Follower lag (p50/p99) while another process ingests, bootstrap time of a new host, "
        "and the cost of adding vectors to a large index (PostgreSQL).")
WORDS = ("graph neural network protein folding diffusion language model retrieval sparse "
         "attention robust optimisation kernel bayesian inference galaxy survey quantum "
         "error correction reinforcement learning policy gradient causal discovery").split()


def add_arguments(parser) -> None:
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to create the scratch database on")
    parser.add_argument("--rate", type=int, default=10_000, help="papers ingested per minute")
    parser.add_argument("--seconds", type=int, default=60, help="how long to ingest")
    parser.add_argument("--bootstrap-papers", type=int, default=100_000)
    parser.add_argument("--vector-base", type=int, default=1_000_000,
                        help="vectors in the index that batches are added to")
    parser.add_argument("--vector-batch", type=int, default=1000)
    parser.add_argument("--dir", help="keep the synthetic vector index here and reuse it")
    parser.add_argument("--skip", default="", help="comma-separated: vectors,bootstrap,lag")
    parser.add_argument("--doc", default=str(DOC), help="markdown file to write the figures to")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = (lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if ordered else (
        lambda q: float("nan"))
    return {"n": len(ordered), "p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)}


# -- vectors ---------------------------------------------------------------------------------


def _unit(rng, n: int, ndim: int = 384) -> np.ndarray:
    x = rng.standard_normal((n, ndim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_vectors(base: int, batch: int, directory: Path) -> dict:
    from usearch.index import Index

    from paperfeed.search.vectors import VectorIndex

    rng = np.random.default_rng(5)
    directory.mkdir(parents=True, exist_ok=True)
    built = directory / f"base-{base}.usearch"
    result: dict = {"base": base, "batch": batch}
    if not built.exists():
        _say(f"building a synthetic index of {base:,} vectors (once; kept in {directory})")
        started = time.perf_counter()
        index = VectorIndex(directory / "tmp")._new()
        for start in range(0, base, 50_000):
            n = min(50_000, base - start)
            index.add(np.arange(start, start + n, dtype=np.uint64), _unit(rng, n))
        index.save(str(built))
        result["build_s"] = time.perf_counter() - started
    new = _unit(rng, batch)
    keys = np.arange(base + 10, base + 10 + batch, dtype=np.uint64)
    # Before: the whole file is read, the batch added, the whole file written back.
    legacy = directory / "legacy"
    shutil.rmtree(legacy, ignore_errors=True)
    legacy.mkdir()
    shutil.copy(built, legacy / "vectors.usearch")
    started = time.perf_counter()
    index = Index.restore(str(legacy / "vectors.usearch"))
    index.add(keys, new)
    index.save(str(legacy / "vectors.tmp"))
    os.replace(legacy / "vectors.tmp", legacy / "vectors.usearch")
    result["before_s"] = time.perf_counter() - started
    del index
    # Now: the same file as the base of a segmented index; the batch is one segment.
    segmented = directory / "segmented"
    shutil.rmtree(segmented, ignore_errors=True)
    segmented.mkdir()
    os.link(built, segmented / "base-1.usearch")
    (segmented / "manifest.json").write_text(json.dumps(
        {"base": {"gen": 1, "file": "base-1.usearch"}, "segments": [], "next": 2,
         "base_size": base}))
    reader, writer = VectorIndex(segmented), VectorIndex(segmented)
    len(reader)  # maps the base
    started = time.perf_counter()
    writer.update(keys, new)
    result["after_s"] = time.perf_counter() - started
    started = time.perf_counter()
    seen = reader.search(new[0], 10)
    result["reader_refresh_s"] = time.perf_counter() - started
    assert seen[0][0] == keys[0], "the reader does not see the new segment"
    queries = _unit(rng, 50)
    for label, index in (("query_base_ms", VectorIndex(legacy)), ("query_segmented_ms", reader)):
        index.search(queries[0], 10)
        started = time.perf_counter()
        for query in queries:
            index.search(query, 10)
        result[label] = (time.perf_counter() - started) / len(queries) * 1000
    shutil.rmtree(legacy, ignore_errors=True)
    shutil.rmtree(segmented, ignore_errors=True)
    return result


# -- a scratch database and the processes on it --------------------------------------------


def _host_env(env: dict, data_dir: Path, name: str) -> dict:
    return {**env, "PAPERFEED_DATA_DIR": str(data_dir),
            "PAPERFEED_SEARCH_DIR": str(data_dir / "search"), "PAPERFEED_SEARCH_HOST_NAME": name}


def bench_bootstrap(env: dict, papers: int, work: Path) -> dict:
    _say(f"seeding {papers:,} papers with stored vectors")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "paperfeed.search.benchfollow", "seed", str(papers)],
                   env=_host_env(env, work / "seeder", "seeder"), check=True)
    seeded = time.perf_counter() - started
    host = _host_env(env, work / "new-host", "new-host")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "paperfeed.cli", "index", "follow"], env=host,
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    found = re.search(r"(\d+) papers, (\d+) vectors in ([\d.]+) s", done.stderr)
    return {"papers": papers, "seed_s": seeded, "command_s": wall,
            "keywords": int(found[1]), "vectors": int(found[2]), "rebuild_s": float(found[3])}


def bench_lag(env: dict, rate: int, seconds: int, work: Path) -> dict:
    from paperfeed.search.keyword import KeywordIndex
    from paperfeed.search.query import parse_query

    host = _host_env(env, work / "follower", "follower")
    subprocess.run([sys.executable, "-m", "paperfeed.cli", "index", "follow"], env=host,
                   check=True, capture_output=True)  # bootstrapped before the clock starts
    follower = subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "index", "follow",
                                 "--loop"], env=host, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    log = work / "ingest.jsonl"
    # The writer catches its own folder up after each commit, as an ingest host does.
    writer_env = _host_env(env, work / "writer", "writer")
    subprocess.run([sys.executable, "-m", "paperfeed.cli", "index", "follow"], env=writer_env,
                   check=True, capture_output=True)
    ingest = subprocess.Popen([sys.executable, "-m", "paperfeed.search.benchfollow", "ingest",
                               str(rate), str(seconds), str(log)], env=writer_env)
    keyword = KeywordIndex(work / "follower" / "search" / "keyword")
    seen: dict[str, float] = {}
    committed: dict[str, float] = {}
    try:
        while True:
            if log.exists():
                for line in log.read_text().splitlines():
                    marker, at = json.loads(line)
                    committed[marker] = at
            for marker in [m for m in committed if m not in seen]:
                if keyword.search(parse_query(marker), limit=1)[1]:
                    seen[marker] = time.time()
            if ingest.poll() is not None and len(seen) == len(committed):
                break
            time.sleep(0.01)
    finally:
        follower.terminate()
        follower.wait(30)
    lags = [seen[m] - committed[m] for m in committed]
    return {"rate": rate, "seconds": seconds, "batches": len(committed),
            "papers": len(committed) * 100, **{k: v for k, v in _stats(lags).items()}}


def run(options: dict, stdout) -> int:
    from django.db import connection

    skip = set(filter(None, options["skip"].split(",")))
    results: dict = {}
    work = Path(tempfile.mkdtemp(prefix="pf-bench-follow-"))
    try:
        if "vectors" not in skip:
            directory = Path(options["dir"]) if options["dir"] else work / "vectors"
            results["vectors"] = bench_vectors(options["vector_base"], options["vector_batch"],
                                               directory)
            _say(json.dumps(results["vectors"]))
        if skip >= {"bootstrap", "lag"}:
            pass
        elif connection.vendor != "postgresql" and not options["database_url"].startswith("postgres"):
            _say("the bootstrap and lag benchmarks need PostgreSQL (--database-url)")
            return 1
        else:
            from paperfeed.digests.scratch import command, drop_postgres, postgres_env

            name = f"paperfeed_bench_follow_{os.getpid()}"
            env = postgres_env(options["database_url"], name)
            try:
                command("migrate", env=env, timeout=600)
                if "bootstrap" not in skip:
                    results["bootstrap"] = bench_bootstrap(env, options["bootstrap_papers"], work)
                    _say(json.dumps(results["bootstrap"]))
                if "lag" not in skip:
                    results["lag"] = bench_lag(env, options["rate"], options["seconds"], work)
                    _say(json.dumps(results["lag"]))
            finally:
                drop_postgres(options["database_url"], name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    markdown = _markdown(results)
    write_section("follow", markdown, Path(options["doc"]))
    stdout.write(markdown)
    stdout.write(json.dumps(results))
    return 0


def _markdown(results: dict) -> str:
    lines = ["## Several hosts: change log, followers, vector segments (`paperfeed bench follow`)",
             ""]
    if v := results.get("vectors"):
        lines += [
            f"Adding {v['batch']:,} vectors to an index of {v['base']:,} (384-d, f16, synthetic):",
            "",
            "| | time |", "|---|---|",
            f"| before: load the whole file, add, write it back | {v['before_s']:.2f} s |",
            f"| now: one new segment | {v['after_s']:.3f} s |",
            f"| a reader mapping the new segment (first search after) | "
            f"{v['reader_refresh_s'] * 1000:.1f} ms |",
            f"| search, one file / base + 1 segment | {v['query_base_ms']:.2f} ms / "
            f"{v['query_segmented_ms']:.2f} ms |", ""]
    if b := results.get("bootstrap"):
        lines += [
            f"Bootstrap of a new host (empty folder, `paperfeed index follow`) at "
            f"{b['papers']:,} papers with stored vectors: {b['rebuild_s']:.1f} s rebuilding "
            f"({b['keywords']:,} keyword documents, {b['vectors']:,} vectors), "
            f"{b['command_s']:.1f} s for the whole command. No model runs.", ""]
    if lag := results.get("lag"):
        lines += [
            f"Follower lag while another process ingests {lag['rate']:,} papers a minute "
            f"for {lag['seconds']} s (batches of 100 through the merge; {lag['papers']:,} "
            "papers): commit on the writer to found in the follower's keyword index, "
            f"p50 **{lag['p50']:.2f} s**, p99 **{lag['p99']:.2f} s**, max {lag['max']:.2f} s.",
            ""]
    lines.append("Reproduce: `paperfeed bench follow` (PostgreSQL: `--database-url`; "
                 "`--bootstrap-papers`, `--vector-base`, `--skip vectors,bootstrap,lag`).")
    return "\n".join(lines)


# -- helpers run in the scratch database's environment ------------------------------------


def _records(rng, start: int, count: int, marker: str = ""):
    from paperfeed.papers.records import PaperRecord

    for n in range(start, start + count):
        words = " ".join(rng.choice(WORDS, 8))
        yield PaperRecord(source="kaggle", original_id=f"9{n:09d}", arxiv_id=f"9{n // 100000:03d}."
                          f"{n % 100000:05d}", version=1, title=f"{marker} {words}".strip(),
                          abstract=" ".join(rng.choice(WORDS, 60)), categories=("cs.LG",))


def _seed(count: int) -> None:
    from paperfeed.papers import prepared
    from paperfeed.papers.models import Paper
    from paperfeed.search.embeddings import configured_model
    from paperfeed.search.models import PaperEmbedding

    rng = np.random.default_rng(11)
    preparer = prepared.Preparer()
    model = configured_model()
    for start in range(0, count, 2000):
        batch = list(_records(rng, start, min(2000, count - start)))
        items = [preparer.prepare(r, r.content_hash(), i) for i, r in enumerate(batch)]
        prepared.apply_prepared(items, lambda item, b=batch: b[item.payload])
    pks = list(Paper.objects.values_list("pk", flat=True))
    for start in range(0, len(pks), 5000):
        chunk = pks[start:start + 5000]
        vectors = _unit(rng, len(chunk))
        PaperEmbedding.objects.bulk_create([
            PaperEmbedding(paper_id=pk, model=model, text_hash="bench",
                           vector=PaperEmbedding.pack(v)) for pk, v in zip(chunk, vectors,
                                                                          strict=True)])


def _ingest(rate: int, seconds: int, log: Path) -> None:
    from paperfeed.papers.merge import apply_records

    rng = np.random.default_rng(int(time.time()))
    per_batch = 100
    interval = per_batch / (rate / 60)
    started = time.monotonic()
    n = 0
    with open(log, "a") as out:
        while time.monotonic() - started < seconds:
            marker = f"zqmark{n}x"
            apply_records(list(_records(rng, 50_000_000 + n * per_batch, per_batch, marker)))
            out.write(json.dumps([marker, time.time()]) + "\n")
            out.flush()
            n += 1
            time.sleep(max(0.0, started + n * interval - time.monotonic()))


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    django.setup()
    if sys.argv[1] == "seed":
        _seed(int(sys.argv[2]))
    elif sys.argv[1] == "ingest":
        _ingest(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
