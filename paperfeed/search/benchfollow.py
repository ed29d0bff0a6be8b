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

The steps that run in the scratch database's environment (seeding, the steady ingest,
the embedding workers' checks) are ``python -m paperfeed.search.benchfollow_steps``.
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
    parser.add_argument("--bootstrap-papers", default="100000",
                        help="papers in the database a new host bootstraps from (a list: "
                             "each size adds papers to the last)")
    parser.add_argument("--vector-base", default="1000000",
                        help="vectors in the index that batches are added to (a list: one "
                             "build grows to the largest, saved at each size)")
    parser.add_argument("--embed-papers", type=int, default=480,
                        help="real abstracts embedded by one, then two workers")
    parser.add_argument("--baseline-code",
                        help="an older checkout whose bootstrap reading and keyword writing "
                             "the phase part compares with this code's")
    parser.add_argument("--results", help="JSON file keeping each part's figures across runs")
    parser.add_argument("--scratch-prefix", default="paperfeed_bench_follow",
                        help="name prefix of the scratch databases (dropped afterwards)")
    parser.add_argument("--vector-batch", type=int, default=1000)
    parser.add_argument("--build-expansion", type=int, default=BUILD_EXPANSION,
                        help="HNSW beam width for building the synthetic bases")
    parser.add_argument("--dir", help="keep the synthetic vector index here and reuse it")
    parser.add_argument("--skip", default="", help="comma-separated: vectors,bootstrap,phase,lag,embed")
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


# The synthetic base is built with this beam width instead of the project's 128: ~4x faster
# to build, and the file is the same size (the same connectivity and dtype). What is timed
# (reading the file, adding a batch, writing it back; or writing one segment) does not
# depend on how good the graph is.
BUILD_EXPANSION = 32
BUILD_CHUNK = 100_000


def _chunk(start: int, n: int) -> np.ndarray:
    """Vectors start..start+n of the synthetic set: the same whichever sizes are built."""
    return _unit(np.random.default_rng([5, start]), n)


def build_bases(sizes: list[int], directory: Path, expansion: int = BUILD_EXPANSION) -> dict:
    """``base-N.usearch`` in ``directory`` for every N in ``sizes`` (kept and reused): one
    index grown to the largest missing size, saved whenever it reaches one of them. It
    starts from the largest base already there below the first missing size, so a build
    can be stopped and continued (also with another beam width)."""
    from usearch.index import Index

    from paperfeed.search.vectors import VectorIndex

    directory.mkdir(parents=True, exist_ok=True)
    missing = sorted(n for n in set(sizes) if not (directory / f"base-{n}.usearch").exists())
    built: dict = {}
    if not missing:
        return built
    there = sorted(int(m[1]) for path in directory.glob("base-*.usearch")
                   if (m := re.fullmatch(r"base-(\d+)\.usearch", path.name))
                   and int(m[1]) < missing[0])
    size = there[-1] if there else 0
    _say(f"building synthetic indexes of {', '.join(f'{n:,}' for n in missing)} vectors "
         f"from {size:,} (once; kept in {directory})")
    index = (Index.restore(str(directory / f"base-{size}.usearch")) if size
             else VectorIndex(directory / "tmp")._new())
    index.expansion_add = expansion
    started = time.perf_counter()
    grown_from = size
    for target in missing:
        while size < target:
            n = min(BUILD_CHUNK - size % BUILD_CHUNK, target - size)
            index.add(np.arange(size, size + n, dtype=np.uint64), _chunk(size, n),
                      threads=os.cpu_count() or 0)
            size += n
        path = directory / f"base-{target}.usearch"
        index.save(str(path.with_name(path.name + ".tmp")))
        os.replace(path.with_name(path.name + ".tmp"), path)
        built[target] = {"build_s": time.perf_counter() - started, "grown_from": grown_from,
                         "build_expansion": expansion, "build_load": os.getloadavg()[:2]}
        _say(f"{target:,} vectors after {built[target]['build_s']:.0f} s "
             f"(load {built[target]['build_load'][0]:.1f})")
        notes = _build_notes(directory)
        notes[str(target)] = built[target]
        (directory / "build.json").write_text(json.dumps(notes, indent=1))
    return built


def _build_notes(directory: Path) -> dict:
    """How each base in ``directory`` was built (``build.json``, written by ``build_bases``)."""
    try:
        return json.loads((directory / "build.json").read_text())
    except FileNotFoundError:
        return {}


def bench_vectors(base: int, batch: int, directory: Path) -> dict:
    from usearch.index import Index

    from paperfeed.search.vectors import VectorIndex

    rng = np.random.default_rng(7)
    built = directory / f"base-{base}.usearch"
    result: dict = {"base": base, "batch": batch, "file_mb": built.stat().st_size / 2**20}
    new = _unit(rng, batch)
    keys = np.arange(base + 10, base + 10 + batch, dtype=np.uint64)
    # Before: the whole file is read, the batch added, the whole file written back (fsynced,
    # as the index is written). The page cache holds the file either way (it was just
    # built or copied), so the "before" time is a lower bound for a cold host.
    legacy = directory / "legacy"
    shutil.rmtree(legacy, ignore_errors=True)
    legacy.mkdir()
    shutil.copy(built, legacy / "vectors.usearch")
    started = time.perf_counter()
    index = Index.restore(str(legacy / "vectors.usearch"))
    result["before_read_s"] = time.perf_counter() - started
    index.add(keys, new)
    result["before_add_s"] = time.perf_counter() - started - result["before_read_s"]
    _save_fsynced(index, legacy / "vectors.tmp")
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
    result["ratio"] = result["before_s"] / result["after_s"]
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
    result["load"] = os.getloadavg()[:2]
    shutil.rmtree(legacy, ignore_errors=True)
    shutil.rmtree(segmented, ignore_errors=True)
    return result


def _save_fsynced(index, path: Path) -> None:
    index.save(str(path))
    with open(path, "rb+") as written:
        os.fsync(written.fileno())


# -- a scratch database and the processes on it --------------------------------------------


def _host_env(env: dict, data_dir: Path, name: str) -> dict:
    return {**env, "PAPERFEED_DATA_DIR": str(data_dir),
            "PAPERFEED_SEARCH_DIR": str(data_dir / "search"), "PAPERFEED_SEARCH_HOST_NAME": name}


def bench_bootstrap(env: dict, papers: int, seeded: int, work: Path) -> dict:
    """Seed the database up to ``papers`` (from ``seeded``), then time a new host's first
    ``paperfeed index follow`` in an empty folder."""
    _say(f"seeding papers {seeded:,}..{papers:,} with stored vectors")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "paperfeed.search.benchfollow_steps", "seed", str(seeded),
                    str(papers - seeded)], env=_host_env(env, work / "seeder", "seeder"),
                   check=True)
    seeded_s = time.perf_counter() - started
    host = _host_env(env, work / f"new-host-{papers}", "new-host")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "paperfeed.cli", "index", "follow"], env=host,
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    shutil.rmtree(work / f"new-host-{papers}", ignore_errors=True)
    found = re.search(r"(\d+) papers, (\d+) vectors in ([\d.]+) s", done.stderr)
    parts = re.search(r"keyword index: \d+ documents in ([\d.]+) s; vector index: \d+ "
                      r"vectors in ([\d.]+) s", done.stderr)
    return {"papers": papers, "seed_s": seeded_s, "command_s": wall,
            "keywords": int(found[1]), "vectors": int(found[2]), "rebuild_s": float(found[3]),
            "keyword_s": float(parts[1]) if parts else float("nan"),
            "vector_s": float(parts[2]) if parts else float("nan"),
            "load": os.getloadavg()[:2]}


def bench_phase(env: dict, papers: int, seeded: int, baseline: Path, work: Path) -> dict:
    """The bootstrap's reading and keyword writing (no HNSW build) at ``papers`` (the
    database holds ``seeded`` already), by this code and by the checkout in ``baseline``,
    back to back on the same database."""
    if papers > seeded:
        _say(f"seeding papers {seeded:,}..{papers:,} with stored vectors")
        subprocess.run([sys.executable, "-m", "paperfeed.search.benchfollow_steps", "seed",
                        str(seeded), str(papers - seeded)],
                       env=_host_env(env, work / "phase-seeder", "seeder"), check=True)
    runs = {}
    for label, code in (("baseline", baseline), ("now", Path(__file__).resolve().parents[2])):
        host = {**_host_env(env, work / f"phase-{label}", f"phase-{label}"),
                "PYTHONPATH": str(code)}
        done = subprocess.run([sys.executable, str(STEPS), "phase", label],
                              env=host, check=True, capture_output=True, text=True)
        runs[label] = json.loads(done.stdout.strip().splitlines()[-1])
        _say(json.dumps(runs[label]))
    return {"papers": papers, "baseline_code": str(baseline), **runs}


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
    ingest = subprocess.Popen([sys.executable, "-m", "paperfeed.search.benchfollow_steps", "ingest",
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
            "papers": len(committed) * 100, "load": os.getloadavg()[:2], **_stats(lags)}


def bench_embed_workers(env: dict, papers: int, worker_counts: list[int], work: Path) -> dict:
    """The same ``papers`` real abstracts embedded by 1, 2, … ``paperfeed embed`` processes,
    each with its own data directory (a host), splitting the work through PostgreSQL.

    Torch's threads are divided among the workers (``OMP_NUM_THREADS`` = cores / workers,
    at least 1) so that workers on one machine do not oversubscribe its cores.
    """
    helper = _host_env(env, work / "embed-helper", "embed-helper")
    subprocess.run([sys.executable, "-m", "paperfeed.search.benchfollow_steps", "embed-seed",
                    str(papers)], env=helper, check=True)
    cores = os.cpu_count() or 1
    rows = []
    for workers in worker_counts:
        subprocess.run([sys.executable, "-m", "paperfeed.search.benchfollow_steps", "embed-reset"],
                       env=helper, check=True)
        threads = max(1, cores // workers)
        load_before = os.getloadavg()[:2]
        started = time.time()
        procs = [subprocess.Popen(
            [sys.executable, "-m", "paperfeed.cli", "embed", "--batch", "16"],
            env={**_host_env(env, work / f"embed-{workers}-{n}", f"embed-{n}"),
                 "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for n in range(workers)]
        counts = []
        for proc in procs:
            out, _ = proc.communicate(timeout=3600)
            if proc.returncode:
                raise RuntimeError(f"an embedding worker failed ({proc.returncode})")
            found = re.search(r"Embedded (\d+) papers", out)
            counts.append(int(found[1]) if found else 0)
        wall = time.time() - started
        check = json.loads(subprocess.run(
            [sys.executable, "-m", "paperfeed.search.benchfollow_steps", "embed-check",
             str(started), str(workers)], env=helper, check=True, capture_output=True,
            text=True).stdout)
        rows.append({"workers": workers, "threads": threads, "per_worker": counts,
                     "wall_s": wall, "rate": papers / wall, **check,
                     "load_before": load_before, "load": os.getloadavg()[:2]})
        _say(json.dumps(rows[-1]))
        if check["embeddings"] != papers or sum(counts) != papers:
            raise RuntimeError(f"{workers} workers embedded {counts} (rows: {check}) "
                               f"of {papers} papers: some twice or missed")
    return {"papers": papers, "cores": cores, "rows": rows}


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"not a list of whole numbers: {text!r}") from None
    if not sizes or min(sizes) <= 0:
        raise SystemExit(f"need one or more positive numbers: {text!r}")
    return sizes


PARTS = ("vectors", "bootstrap", "phase", "lag", "embed")
# Run as a file by bench_phase, for the baseline checkout too.
STEPS = Path(__file__).resolve().with_name("benchfollow_steps.py")


def run(options: dict, stdout) -> int:
    from django.db import connection

    skip = set(filter(None, options["skip"].split(",")))
    if unknown := skip - set(PARTS):
        _say(f"--skip: unknown part(s) {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
        return 2
    vector_sizes = _sizes(options["vector_base"])
    bootstrap_sizes = _sizes(options["bootstrap_papers"])
    # Figures of earlier runs (other parts, other sizes) are kept in --results, so a long
    # benchmark can run a part at a time on a busy machine; each row carries its load.
    results_path = Path(options["results"]) if options["results"] else None
    results: dict = (json.loads(results_path.read_text())
                     if results_path and results_path.exists() else {})
    work = Path(tempfile.mkdtemp(prefix="pf-bench-follow-"))

    measured: set[str] = set()

    def save() -> None:
        # Re-read first: another run may have saved its parts meanwhile; keep them.
        measured.update(part for part in PARTS if part in results and part not in skip)
        if results_path:
            kept = json.loads(results_path.read_text()) if results_path.exists() else {}
            results.update({k: v for k, v in kept.items() if k not in measured})
            tmp = results_path.with_name(results_path.name + ".tmp")
            tmp.write_text(json.dumps(results, indent=1))
            os.replace(tmp, results_path)

    try:
        if "vectors" not in skip:
            directory = Path(options["dir"]) if options["dir"] else work / "vectors"
            build_bases(vector_sizes, directory, options["build_expansion"])
            built = {int(n): note for n, note in _build_notes(directory).items()}
            rows = {row["base"]: row for row in results.get("vectors", [])}
            for size in vector_sizes:
                rows[size] = {**bench_vectors(size, options["vector_batch"], directory),
                              **built.get(size, {})}
                _say(json.dumps(rows[size]))
            results["vectors"] = [rows[size] for size in sorted(rows)]
            save()
        if skip >= {"bootstrap", "phase", "lag", "embed"}:
            pass
        elif connection.vendor != "postgresql" and not options["database_url"].startswith("postgres"):
            _say("the bootstrap, lag and embedding benchmarks need PostgreSQL (--database-url)")
            return 1
        else:
            from paperfeed.digests.scratch import command, drop_postgres, postgres_env

            name = f"{options['scratch_prefix']}_{os.getpid()}"
            env = postgres_env(options["database_url"], name)
            try:
                command("migrate", env=env, timeout=600)
                if "bootstrap" not in skip:
                    rows = {row["papers"]: row for row in results.get("bootstrap", [])}
                    seeded = 0
                    for size in sorted(bootstrap_sizes):  # each size adds to the last
                        rows[size] = bench_bootstrap(env, size, seeded, work)
                        seeded = size
                        _say(json.dumps(rows[size]))
                        results["bootstrap"] = [rows[n] for n in sorted(rows)]
                        save()
                if "phase" not in skip:
                    if not options["baseline_code"]:
                        raise SystemExit("the phase part compares with an older checkout: "
                                         "--baseline-code DIR (or --skip phase)")
                    results["phase"] = bench_phase(
                        env, max(bootstrap_sizes), 0 if "bootstrap" in skip else
                        max(bootstrap_sizes), Path(options["baseline_code"]), work)
                    save()
                if "lag" not in skip:
                    results["lag"] = bench_lag(env, options["rate"], options["seconds"], work)
                    _say(json.dumps(results["lag"]))
                    save()
                if "embed" not in skip:
                    results["embed"] = bench_embed_workers(
                        _fresh(env, options, name + "_embed"), options["embed_papers"],
                        [1, 2], work)
                    save()
            finally:
                drop_postgres(options["database_url"], name)
                drop_postgres(options["database_url"], name + "_embed")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save()
    # Imported here: the phase child runs this file under an older checkout's path.
    from paperfeed.search.benchfollow_report import markdown as _markdown

    markdown = _markdown(results)
    write_section("follow", markdown, Path(options["doc"]))
    stdout.write(markdown)
    stdout.write(json.dumps(results))
    return 0


def _fresh(env: dict, options: dict, name: str) -> dict:
    """Another scratch database (the embedding workers start from no papers at all)."""
    from paperfeed.digests.scratch import command, postgres_env

    fresh = {**env, **{k: v for k, v in postgres_env(options["database_url"], name).items()
                       if k == "DATABASE_URL"}}
    command("migrate", env=fresh, timeout=600)
    return fresh
