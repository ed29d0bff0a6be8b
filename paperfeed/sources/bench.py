"""``paperfeed bench ingest``: stream ≥1M Kaggle-format records into SQLite and PostgreSQL.

The records are real: the 140,107 arXiv listing records in ``shared/bench/arxiv-listings``
(title, authors, categories, versions, comments, journal-ref), each given a real abstract
from ``shared/fixtures`` (arxiv-abs and the Kaggle sample) since listings carry none.
After the first pass, each pass repeats them under new, valid, unique arXiv ids, so the
database keeps growing as a real back-fill does. Everything is generated as Kaggle JSON
lines and streamed through :func:`paperfeed.sources.kaggle.ingest_stream`, the code the
``ingest kaggle`` command runs — parse, merge, write — with no file on disk.

Each backend runs in a child process with a fresh, migrated database, so its peak RSS is
its own. The baseline, measured in the same run, is the parse-only rate (generate +
``json.loads`` + record building, no database): the ratio says how much the database
costs. Memory is sampled every 10% of the stream to show it stays flat.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from paperfeed.lib.benchmarks import peak_rss_mb
from paperfeed.lib.cli_args import non_negative_int, positive_int

NAME = "ingest"
HELP = "Stream Kaggle-format records through the importer; records/s and peak RSS."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", type=positive_int, default=1_000_000)
    parser.add_argument("--batch-size", type=positive_int, default=2000)
    parser.add_argument("--workers", type=non_negative_int, default=None,
                        help="parsing processes (default: as `paperfeed ingest kaggle`)")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    parser.add_argument("--pg-url", default=os.environ.get(
        "PAPERFEED_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server; a scratch database is created on it and dropped after")
    parser.add_argument("--shared", type=Path, default=None, help="the shared data folder")
    parser.add_argument("--no-write", action="store_true",
                        help="print the figures without updating docs/benchmarks.md")


def _shared(options: dict) -> Path:
    from paperfeed.lib.benchmarks import SHARED

    return Path(options.get("shared") or SHARED)


def _abstracts(shared: Path) -> list[str]:
    texts = []
    for line in (shared / "fixtures/arxiv-abs/arxiv_browse_abs.jsonl").open():
        texts.append(json.loads(line).get("abstract", ""))
    for path in sorted((shared / "fixtures/kaggle-snapshot").glob("*.jsonl")):
        texts += [json.loads(line).get("abstract", "") for line in path.open()]
    return [t for t in texts if t.strip()]


def _new_id(n: int) -> str:
    # Five-digit new-style ids from 2501 on (the listings end in 2023, so none of these
    # is a real listing's id): 99,999 per month, 12 months a year.
    month, number = divmod(n, 99_999)
    year, month = divmod(month, 12)
    return f"{25 + year:02d}{month + 1:02d}.{number + 1:05d}"


FIRST_RENUMBERED = _new_id(0)


def _check_not_renumbered(real_id: str) -> None:
    # Later passes renumber from 2501.00001 on; a real listing id in that range would
    # make two "different" papers share an id (the first 1M run hit 5,124 such with the
    # old 1501 start).
    if real_id[:4].isdigit() and "." in real_id and real_id >= FIRST_RENUMBERED:
        raise ValueError(f"listing id {real_id} is in the range the benchmark renumbers into "
                         f"(from {FIRST_RENUMBERED}); move _new_id's start past it")


def kaggle_lines(shared: Path, count: int, listings: Path | None = None) -> Iterator[bytes]:
    """``count`` Kaggle snapshot lines built from real records (see module docstring)."""
    abstracts = _abstracts(shared)
    listings = listings or shared / "bench/arxiv-listings/arxiv_browse_listings.jsonl.gz"
    produced, rounds = 0, 0
    seen: set[str] = set()  # listings repeat cross-listed papers; a snapshot does not
    while produced < count:
        with gzip.open(listings, "rt") as stream:
            for line in stream:
                row = json.loads(line)
                if rounds == 0:
                    if row["id"] in seen:
                        continue
                    seen.add(row["id"])
                    _check_not_renumbered(row["id"])
                names = [a.strip() for a in row["authors"].replace(" and ", ", ").split(",")
                         if a.strip()]
                yield json.dumps({
                    "id": row["id"] if rounds == 0 else _new_id(produced),
                    "submitter": names[0] if names else None,
                    "authors": row["authors"],
                    "title": row["title"],
                    "comments": row.get("comments"),
                    "journal-ref": row.get("journal_ref"),
                    "doi": row.get("doi"),
                    "report-no": row.get("report_no"),
                    "categories": row["categories"],
                    "license": row.get("license"),
                    "abstract": abstracts[produced % len(abstracts)],
                    "versions": [{"version": v["version"], "created": v["date"]}
                                 for v in row["versions"]],
                    "update_date": None,
                    "authors_parsed": [[n.rsplit(" ", 1)[-1], n.rsplit(" ", 1)[0]
                                        if " " in n else "", ""] for n in names],
                }).encode() + b"\n"
                produced += 1
                if produced >= count:
                    return
        rounds += 1




def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Sampler:
    """Counts lines and samples RSS every ``every`` lines."""

    def __init__(self, lines: Iterator[bytes], every: int):
        self.lines, self.every, self.samples = lines, every, []
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.lines:
            self.count += 1
            if self.count % self.every == 0:
                self.samples.append(round(_rss_mb(), 1))
            yield line


def _child(snapshot: Path, batch_size: int, workers: int | None) -> dict:
    """Runs in a fresh process whose database settings the parent chose."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from paperfeed.papers.models import Paper
    from paperfeed.search.service import get_engine
    from paperfeed.sources import kaggle

    call_command("migrate", verbosity=0)
    get_engine()  # opened by the first search or import in a real process too
    lines = sum(1 for _ in snapshot.open("rb"))
    import_peak: list[float] = []

    def on_index(done: int, total: int) -> None:
        if not import_peak:
            import_peak.append(round(peak_rss_mb(), 1))

    with snapshot.open("rb") as stream:
        sampler = _Sampler(iter(stream), max(1, lines // 10))
        result = kaggle.ingest_stream(sampler, name=str(snapshot),  # type: ignore[arg-type]
                                      batch_size=batch_size, workers=workers,
                                      on_index=on_index)
    return {"vendor": connection.vendor, "records": sampler.count,
            "import_seconds": result.import_seconds, "seconds": result.seconds,
            "new": result.stats.new, "errors": len(result.errors),
            "papers": Paper.objects.count(), "indexed": get_engine().keyword.num_docs,
            "import_peak_rss_mb": import_peak[0] if import_peak else None,
            "peak_rss_mb": round(peak_rss_mb(), 1), "rss_samples_mb": sampler.samples,
            "workers": kaggle.default_workers() if workers is None else workers}


def _parse_only(snapshot: Path) -> tuple[int, float]:
    from paperfeed.sources import kaggle

    result = kaggle.KaggleResult()
    count = 0
    start = time.perf_counter()
    with snapshot.open("rb") as stream:
        for _ in kaggle.read_records(stream, result):
            count += 1
    return count, count / (time.perf_counter() - start)


def _run_child(backend: str, options: dict, snapshot: Path) -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="pf-bench-") as data_dir:
        env["PAPERFEED_DATA_DIR"] = data_dir
        env.pop("DATABASE_URL", None)
        scratch = None
        if backend == "postgres":
            scratch, env["DATABASE_URL"] = _create_pg_database(options["pg_url"])
        try:
            code = (f"import json, pathlib; from paperfeed.sources.bench import _child; "
                    f"print(json.dumps(_child(pathlib.Path({str(snapshot)!r}), "
                    f"{options['batch_size']}, {options.get('workers')!r})))")
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{backend} run failed:\n{done.stderr[-3000:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            if scratch:
                _drop_pg_database(options["pg_url"], scratch)


def _admin_connection(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _create_pg_database(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit, urlunsplit

    name = f"pf_bench_ingest_{os.getpid()}"
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return name, urlunsplit(parts._replace(path="/" + name))


def _drop_pg_database(url: str, name: str) -> None:
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(options: dict, stdout) -> int:
    shared = _shared(options)
    if not (shared / "bench/arxiv-listings").is_dir():
        stdout.write(f"{shared}/bench/arxiv-listings is missing (use --shared)\n")
        return 1
    with tempfile.TemporaryDirectory(prefix="pf-bench-snapshot-") as folder:
        snapshot = Path(folder) / "arxiv-metadata-oai-snapshot.json"
        start = time.perf_counter()
        with snapshot.open("wb") as out:
            out.writelines(kaggle_lines(shared, options["records"]))
        size_mb = snapshot.stat().st_size / 2**20
        stdout.write(f"wrote {options['records']:,} Kaggle lines ({size_mb:,.0f} MiB) in "
                     f"{time.perf_counter() - start:.0f} s\n")
        sample, baseline = _parse_only(snapshot)
        stdout.write(f"baseline (parse only): {baseline:,.0f} records/s\n")
        rows = _measure(options, snapshot, stdout)
    return _report(options, rows, sample, baseline, size_mb, stdout)


def _measure(options: dict, snapshot: Path, stdout) -> list[tuple[str, dict]]:
    rows = []
    for backend in options["backends"]:
        stdout.write(f"{backend}: streaming {options['records']:,} records...\n")
        got = _run_child(backend, options, snapshot)
        stdout.write(
            f"{backend}: import {got['records'] / got['import_seconds']:,.0f} records/s, "
            f"with the search index {got['records'] / got['seconds']:,.0f} records/s; "
            f"peak RSS {got['import_peak_rss_mb']} MiB importing, {got['peak_rss_mb']} MiB "
            f"with indexing; RSS every 10%: {got['rss_samples_mb']}\n")
        rows.append((backend, got))
    return rows


def _report(options: dict, rows: list, sample: int, baseline: float, size_mb: float,
            stdout) -> int:
    from paperfeed.lib.benchmarks import write_section

    workers = {got["workers"] for _, got in rows}
    table = [
        f"Kaggle-format stream built from real arXiv records (`paperfeed bench ingest "
        f"--records {options['records']} --batch-size {options['batch_size']}`; "
        f"{size_mb:,.0f} MiB file), through `paperfeed.sources.kaggle.ingest_stream` (what "
        "`paperfeed ingest kaggle` runs), each backend in a fresh database: "
        f"{', '.join(map(str, sorted(workers)))} parsing process(es) beside the one that "
        "writes; the keyword index catches up in one pass after the last batch. *Import* "
        "is reading, parsing, merging and writing; *+ index* adds that catch-up (the papers "
        "are searchable at its end). Baseline: read and parse only, in one process, no "
        "database, same file, same run. Target ≥ 5,000 records/s without embeddings, "
        "memory flat.",
        "",
        "| backend | records | import s | import records/s | × baseline | + index s | "
        "records/s with index | peak RSS importing (MiB) | RSS at 10%…100% (MiB) | "
        "peak RSS with index (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, got in rows:
        samples = got["rss_samples_mb"]
        spread = f"{samples[0]}…{samples[-1]}" if samples else "—"
        rate = got["records"] / got["import_seconds"]
        table.append(
            f"| {backend} | {got['records']:,} | {got['import_seconds']:.0f} | {rate:,.0f} | "
            f"{rate / baseline:.2f} | {got['seconds'] - got['import_seconds']:.0f} | "
            f"{got['records'] / got['seconds']:,.0f} | {got['import_peak_rss_mb']} | "
            f"{spread} | {got['peak_rss_mb']} |")
    table.append(f"| parse only (baseline) | {sample:,} | — | {baseline:,.0f} | 1.00 | — | — | "
                 "— | — | — |")
    if not options.get("no_write"):
        write_section("ingest", "## Ingestion (Kaggle snapshot stream)\n\n" + "\n".join(table))
        stdout.write("written to docs/benchmarks.md\n")
    failed = [b for b, got in rows
              if got["errors"] or got["new"] != got["records"] or got["indexed"] != got["records"]]
    return 1 if failed else 0
