"""``paperfeed bench load``: the documented layout (docs/deploy.md) under wrk.

Builds (or reuses) a PostgreSQL corpus of N papers (deploy/loadcorpus.py), starts
``paperfeed serve`` and ``paperfeed worker --loop`` exactly as the guide does (granian,
a process per core, or ``--server``'s; Redis page cache, PAPERFEED_PROXY_COUNT=0 on loopback; their output
goes to ``bench-logs/`` in the data folder), and drives it with Debian's wrk from a
second process, with requests as a browser sends them (``Accept-Encoding: gzip``): each
page at each client count, anonymous and with a signed-in share spread over several
members' sessions, plus a static file through the same server as the same-run baseline
(the runs: deploy/runs.py).
Paper pages are drawn from ``--paper-pages`` papers across the corpus and searches from
``--queries`` queries made of real titles' words; a short warm-up precedes each page.
Each row gets a verdict against issue 14's targets.

Those runs saturate the server (wrk's clients send as fast as they are answered), which
measures throughput; their p99 is queueing at 100 % CPU. For the pages with a latency
target (the listings and search), ``--paced-duration`` seconds more at 200 clients are
held to the page's target rate (its throughput target times the static file's rate at
200 clients in the same run), with the static file at the same rate as the baseline:
the latency targets are judged there (deploy/wrk.py says how, and what wrk cannot do).

``--soak S`` then runs S seconds of mixed reading (wrk, paced to ``--soak-read-rate``, a
steady audience) while members vote and comment
through HTTP at a steady rate (deploy/soak.py), an ingest of new papers and a digest run
go on as child processes, and a probe times how long a vote takes to show on the
anonymous daily page; afterwards every accepted write, every ingested paper and every
counter is checked in the database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote_plus

from paperfeed.deploy import procs, runs, soak, wrk
from paperfeed.deploy.loadreport import TARGET_CLIENTS
from paperfeed.deploy.loadreport import report as _report
from paperfeed.lib import cli_args
from paperfeed.lib.cli_args import non_negative_int, positive_float, positive_int

NAME = "load"
HELP = "Serve a PostgreSQL corpus with `paperfeed serve` and drive it with wrk."
MORE = ("paperfeed.deploy.benchpage",)  # `bench paper-page`

PAGES = ("static", "daily", "weekly", "monthly", "trending", "paper", "search", "api")

# Votes and comments per IP: every soak request comes from 127.0.0.1, where a real site
# sees each reader's own address; the per-account limits stay as configured.
SOAK_RATE_ENV = {"PAPERFEED_RATE_VOTES_PER_IP": "1000000/hour",
                 "PAPERFEED_RATE_COMMENTS_PER_IP": "1000000/hour"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--papers", type=positive_int, default=100_000)
    parser.add_argument("--clients", type=positive_int, nargs="+", default=[10, 50, TARGET_CLIENTS])
    parser.add_argument("--duration", type=positive_int, default=30, help="seconds per wrk run")
    parser.add_argument("--warmup", type=non_negative_int, default=5,
                        help="seconds of the same requests (10 clients) before each page's "
                             "runs, not counted, after each of its paths once; 0: neither")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=PAGES)
    parser.add_argument("--paced-duration", type=non_negative_int, default=15,
                        help="seconds of each paced run: the pages with a latency target "
                             "(listings, search) and the static file, at 200 clients held "
                             "to the page's target rate, where p99 is judged (0: none)")
    parser.add_argument("--signed-in", type=cli_args.share, default=0.1,
                        help="share of requests with a member's session in the mixed runs")
    parser.add_argument("--members", type=positive_int, default=50,
                        help="members whose sessions the signed-in share uses")
    parser.add_argument("--paper-pages", type=positive_int, default=2000,
                        help="papers (across the corpus) whose pages the paper runs request")
    parser.add_argument("--queries", type=positive_int, default=100,
                        help="search queries (words of real titles, fixed seed)")
    parser.add_argument("--embedded", type=non_negative_int, default=1000,
                        help="papers to embed when the corpus has none, so search runs in "
                             "its default hybrid mode (0: leave it keyword-only)")
    parser.add_argument("--soak", type=non_negative_int, default=0,
                        help="seconds of mixed reading while members vote and comment over "
                             "HTTP and an ingest and a digest run go on (the issue: 600)")
    parser.add_argument("--soak-clients", type=positive_int, default=50,
                        help="wrk readers during the soak (a steady load; the vote probe "
                             "also runs on its own under 200 clients)")
    parser.add_argument("--soak-read-rate", type=positive_float, default=200.0,
                        help="requests/s the soak's readers hold (paced, as a site's steady "
                             "audience; the soak fails if they fall below 95%% of it)")
    parser.add_argument("--soak-rate", type=positive_float, default=4.0,
                        help="votes and comments per second during the soak")
    parser.add_argument("--soak-ingest", type=non_negative_int, default=2000,
                        help="new papers ingested (Kaggle format) during the soak")
    parser.add_argument("--soak-digests", type=non_negative_int, default=300,
                        help="subscribers whose digests are sent during the soak")
    parser.add_argument("--probes", type=positive_int, default=10,
                        help="votes timed until they show on the anonymous daily page")
    parser.add_argument("--pg-url", default=os.environ.get(
        "PAPERFEED_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server; the corpus database pf_load_<N> is kept there for reuse")
    parser.add_argument("--database", default=None,
                        help="the corpus database's name on that server (default pf_load_<N>)")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--server", choices=["granian", "gunicorn", "waitress"],
                        default="granian",
                        help="`paperfeed serve --server` (default: its own default); the "
                             "figures of another than the default go to their own section")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="kept for reuse with the database (default /tmp/pf-load-<N>)")
    parser.add_argument("--shared", type=Path, default=None, help="the shared data folder")
    parser.add_argument("--no-write", action="store_true",
                        help="print the figures without updating docs/benchmarks.md")


def _child(code: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _database(options: dict) -> str:
    from urllib.parse import urlsplit, urlunsplit

    from paperfeed.sources.bench import _admin_connection

    name = options.get("database") or f"pf_load_{options['papers']}"
    with _admin_connection(options["pg_url"]) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(options["pg_url"])._replace(path="/" + name))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _targets(env: dict, options: dict) -> dict:
    """The URLs of each page, the members' sessions and the soak's papers, from the corpus."""
    return _child(f"""
import json, random
from django.conf import settings
from paperfeed.papers.models import Paper
from paperfeed.deploy.loadcorpus import MEMBERS, search_queries, session_cookie
rng = random.Random(14)
latest = Paper.objects.latest_feed_day()
year, week, _ = latest.isocalendar()
ids = list(Paper.objects.visible().exclude(arxiv_id=None).values_list("arxiv_id", flat=True))
papers = sorted(rng.sample(ids, min(len(ids), {options['paper_pages']})))
day = list(Paper.objects.visible().filter(feed_date=latest).values_list("pk", flat=True))
members = [f"reader{{n}}" for n in range(MEMBERS)]
readers = members[:{options['members']}]
writers = members[{options['members']}:{options['members']} + 200]
print(json.dumps({{"daily": "/papers", "weekly": f"/papers/week/{{year}}-W{{week:02d}}",
  "monthly": f"/papers/month/{{latest:%Y-%m}}", "trending": "/papers/trending",
  "paper": [f"/papers/{{i}}" for i in papers], "queries": search_queries({options['queries']}),
  "api": "/api/daily_papers", "cookies": [session_cookie(m) for m in readers],
  "writers": {{m: session_cookie(m) for m in writers}},
  "prober": [members[-1], session_cookie(members[-1])], "day_pks": day,
  "bound": getattr(settings, "PAGE_CACHE_MIN_SECONDS", None),
  "cache_seconds": getattr(settings, "PAGE_CACHE_SECONDS", None)}}))
""", env)


def run(options: dict, stdout) -> int:
    from paperfeed.sources.bench import _shared

    if not shutil.which("wrk"):
        stdout.write("wrk is missing: apt-get install -y wrk\n")
        return 1
    if options["soak"]:
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            stdout.write("the soak's digest run needs aiosmtpd: pip install -e '.[test]'\n")
            return 1
    data_dir = options.get("data_dir") or Path(f"/tmp/pf-load-{options['papers']}")
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env.update(DATABASE_URL=_database(options), PAPERFEED_DATA_DIR=str(data_dir),
               PAPERFEED_CACHE_URL=options["cache_url"], PAPERFEED_API_RATE_LIMIT="0",
               DJANGO_SETTINGS_MODULE="paperfeed.settings",
               PAPERFEED_SHARED_DIR=str(_shared(options)), **SOAK_RATE_ENV)
    start = time.perf_counter()
    built = _child(f"import json; from pathlib import Path; from paperfeed.deploy.loadcorpus "
                   f"import build; print(json.dumps(build({options['papers']}, "
                   f"Path({str(_shared(options))!r}))))", env)
    stdout.write(f"corpus: {built} ({time.perf_counter() - start:.0f} s)\n")
    if options["embedded"]:
        built["embedded"] = _embed(env, options["embedded"], stdout)
    targets = _targets(env, options)
    stdout.write(f"{len(targets['paper'])} paper pages, {len(targets['queries'])} queries "
                 f"(e.g. {targets['queries'][:5]}), {len(targets['cookies'])} members' sessions\n")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The guide's layout (docs/deploy.md): the web server and the site's worker.
    logs = data_dir / "bench-logs"
    server = procs.start("serve", [sys.executable, "-m", "paperfeed.cli", "serve", "--no-demo",
                                   "--host", "127.0.0.1", "--port", str(port),
                                   "--server", options["server"]], env, logs)
    worker = procs.start("worker", [sys.executable, "-m", "paperfeed.cli", "worker", "--loop"],
                         env, logs)
    stdout.write(f"the site's output: {logs}\n")
    rows: list[dict] = []
    soak = visibility = None
    try:
        _wait(base, server)
        with tempfile.TemporaryDirectory(prefix="pf-wrk-") as folder:
            rows = runs.drive(options, base, targets, Path(folder), stdout)
            if options["paced_duration"]:
                rows += runs.drive_paced(options, base, targets, rows, Path(folder), stdout)
            if options["probes"]:
                visibility = _probe_only(options, base, targets, Path(folder), stdout)
            if options["soak"]:
                soak = _soak(options, env, base, targets, Path(folder), logs, stdout)
    finally:
        worker.stop()
        server.stop()
    report = _report(options, built, rows, soak, targets, visibility)
    stdout.write(report + "\n")
    if not options["no_write"]:
        from paperfeed.lib.benchmarks import write_section

        server = "" if options["server"] == "granian" else f"-{options['server']}"
        write_section(f"load-{options['papers']}{server}", report)
    return 0


def _embed(env: dict, count: int, stdout) -> int:
    """Embed ``count`` papers if none are: the site's search is hybrid (BM25 + embeddings)
    whenever the vector index holds anything, and then embeds every query."""
    have = _child("import json; from paperfeed.search.models import PaperEmbedding; "
                  "print(json.dumps({'n': PaperEmbedding.objects.count()}))", env)["n"]
    if not have:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "paperfeed.cli", "embed", "--limit", str(count)],
                       env=env, check=True, capture_output=True)
        stdout.write(f"embedded {count} papers ({time.perf_counter() - started:.0f} s)\n")
        have = count
    return have


def _wait(base: str, server: procs.Started) -> None:
    import urllib.request

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"paperfeed serve exited: {procs.tail(server.err)}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("paperfeed serve did not come up")


def _reader_paths(targets: dict) -> list[str]:
    """The soak's reading mix: mostly the day's listing and papers, some of everything."""
    queries = [f"/papers/search?q={quote_plus(q)}" for q in targets["queries"][:20]]
    return ([targets["daily"]] * 8 + [targets["weekly"], targets["monthly"]]
            + [targets["trending"]] * 2 + targets["paper"][:200] + queries + [targets["api"]])


def _probe_only(options: dict, base: str, targets: dict, folder: Path, stdout) -> dict:
    """Time the probe's votes while 200 clients read the daily page (the issue's "under
    that load")."""
    seconds = max(options["duration"], 3 * (options["probes"] + 1))
    paper = soak.probe_paper(base)
    stop = threading.Event()
    reads: dict = {}
    reader = threading.Thread(target=lambda: reads.update(wrk.run(
        base, [targets["daily"]], TARGET_CLIENTS, seconds, 0.0, [], folder)))
    reader.start()
    probe, thread = soak.start_probe(base, targets["prober"], paper, options["probes"],
                                     seconds, stop)
    reader.join()
    thread.join(timeout=120)  # the last vote's polls
    stop.set()
    result = {"seconds": seconds, "reads": reads, "probe": probe.summary(targets["bound"]),
              "clients": TARGET_CLIENTS}
    stdout.write(f"vote visibility: {json.dumps(result)}\n")
    return result


def _soak(options: dict, env: dict, base: str, targets: dict, folder: Path, logs: Path,
          stdout) -> dict:
    from paperfeed.digests.bench import _start_sink, _stop_sink
    from paperfeed.sources.bench import _shared

    seconds = options["soak"]
    run_id = time.strftime("%Y%m%d%H%M%S")
    batch = folder / "soak-batch.json"
    prepared = _child(f"""
import json
from pathlib import Path
from paperfeed.deploy.loadcorpus import search_queries, soak_batch, soak_subscribers
ids = soak_batch(Path({str(_shared(options))!r}), {options['soak_ingest']}, Path({str(batch)!r}))
words = sorted({{w for q in search_queries(200, seed=15) for w in q.split()}})
print(json.dumps({{"ingest_ids": ids,
                   "subscribers": soak_subscribers({options['soak_digests']}, words)}}))
""", env)
    stdout.write(f"soak: {len(prepared['ingest_ids'])} papers to ingest, "
                 f"{prepared['subscribers']} digests due; {seconds} s\n")
    probe_paper = soak.probe_paper(base)
    papers = [pk for pk in targets["day_pks"] if pk != probe_paper][:300]
    writers = list(targets["writers"].items())
    sink, smtp_port, count_file = _start_sink(folder)
    child_env = {**env, "PAPERFEED_SMTP_HOST": "127.0.0.1", "PAPERFEED_SMTP_PORT": str(smtp_port),
                 "PAPERFEED_LOG_LEVEL": "WARNING"}
    stop = threading.Event()
    tally = soak.Tally()
    reads: dict = {}
    reader = threading.Thread(target=lambda: reads.update(wrk.run(
        base, _reader_paths(targets), options["soak_clients"], seconds, options["signed_in"],
        targets["cookies"], folder, options["soak_read_rate"])))
    cache_before = runs.cache_counts(base)
    reader.start()
    children = {
        "ingest": procs.start("soak-ingest", [sys.executable, "-m", "paperfeed.cli", "ingest",
                                              "kaggle", str(batch), "--no-progress"],
                              child_env, logs),
        "digest": procs.start("soak-digest", [sys.executable, "-m", "paperfeed.cli",
                                              "senddigests"], child_env, logs),
    }
    probe, probe_thread = soak.start_probe(base, targets["prober"], probe_paper,
                                           options["probes"], seconds, stop)
    threads = []
    count = 8
    for n in range(count):
        mine = [soak.Member(base, name, cookie) for name, cookie in writers[n::count]]
        threads.append(threading.Thread(target=soak.write, args=(
            mine, papers, options["soak_rate"] / count, seconds, tally, run_id, stop, n),
            daemon=True))
        threads[-1].start()
    for thread in threads:
        thread.join()
    reader.join()
    probe_thread.join(timeout=120)  # the last vote's polls
    stop.set()
    finished = {name: child.finish(timeout=max(600, seconds)) for name, child in children.items()}
    cache_after = runs.cache_counts(base)
    received = _stop_sink(sink, count_file)
    expected = {"run": run_id, "votes": tally.votes, "comments": tally.comments,
                "ingest_ids": prepared["ingest_ids"]}
    (folder / "expected.json").write_text(json.dumps(expected))
    checked = _child(f"""
import json
from pathlib import Path
from paperfeed.deploy.loadcorpus import check_soak
print(json.dumps(check_soak(json.loads(Path({str(folder / 'expected.json')!r}).read_text()))))
""", env)
    result = {"seconds": seconds, "rate": options["soak_rate"], "clients": options["soak_clients"],
              "votes_ok": tally.votes_ok, "comments_ok": tally.comments_ok,
              "writes_failed": tally.failed, "failures": tally.failures[:5], "reads": reads,
              "cache": {k: cache_after.get(k, 0) - cache_before.get(k, 0) for k in cache_after},
              "ingest": {**finished["ingest"], "papers": len(prepared["ingest_ids"])},
              "digest": {**finished["digest"], "due": prepared["subscribers"],
                         "sink_received": received},
              "check": checked, "probe": probe.summary(targets["bound"])}
    stdout.write(f"soak: {json.dumps(result)}\n")
    return result
