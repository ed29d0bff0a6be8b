"""``paperfeed bench load``: the documented layout (docs/deploy.md) under wrk.

Builds (or reuses) a PostgreSQL corpus of N papers (deploy/loadcorpus.py), starts
``paperfeed serve`` exactly as the guide does (gunicorn, a process per core, Redis page
cache, PAPERFEED_PROXY_COUNT=0 on loopback), and drives it with Debian's wrk from a
second process: each page at each client count, anonymous and with a signed-in share,
plus a static file through the same server as the same-run baseline. ``--soak S`` then
reads under load for S seconds while members vote and comment through the site's own
functions, and checks every counter equals the rows it counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NAME = "load"
HELP = "Serve a PostgreSQL corpus with `paperfeed serve` and drive it with wrk."

PAGES = ("static", "daily", "weekly", "monthly", "trending", "paper", "search", "api")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--duration", type=int, default=30, help="seconds per wrk run")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=PAGES)
    parser.add_argument("--signed-in", type=float, default=0.1,
                        help="share of requests with a member's session in the mixed runs")
    parser.add_argument("--soak", type=int, default=0,
                        help="seconds of reading under load while members vote and comment")
    parser.add_argument("--pg-url", default=os.environ.get(
        "PAPERFEED_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server; the corpus database pf_load_<N> is kept there for reuse")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/0")
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

    name = f"pf_load_{options['papers']}"
    with _admin_connection(options["pg_url"]) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(options["pg_url"])._replace(path="/" + name))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _targets(env: dict) -> dict:
    """The URLs of each page, from the corpus itself."""
    return _child("""
import datetime as dt, json
from paperfeed.papers.models import Paper
from paperfeed.deploy.loadcorpus import session_cookie
latest = Paper.objects.latest_feed_day()
year, week, _ = latest.isocalendar()
ids = list(Paper.objects.filter(feed_date=latest).values_list("arxiv_id", flat=True)[:200])
print(json.dumps({"daily": "/papers", "weekly": f"/papers/week/{year}-W{week:02d}",
  "monthly": f"/papers/month/{latest:%Y-%m}", "trending": "/papers/trending",
  "paper": [f"/papers/{i}" for i in ids], "search": "/papers/search?q=language+model",
  "api": "/api/daily_papers", "cookie": session_cookie()}))
""", env)


_LUA = """
local paths = {%(paths)s}
local share = %(share)f
local cookie = "%(cookie)s"
math.randomseed(os.time())
request = function()
  local path = paths[math.random(#paths)]
  if share > 0 and math.random() < share then
    return wrk.format("GET", path, {["Cookie"] = cookie})
  end
  return wrk.format("GET", path)
end
"""


def _wrk(base: str, paths: list[str], clients: int, duration: int, share: float,
         cookie: str, folder: Path) -> dict:
    script = folder / f"mix-{len(paths)}-{share}.lua"
    script.write_text(_LUA % {"paths": ", ".join(json.dumps(p) for p in paths), "share": share,
                              "cookie": cookie})
    threads = min(2, clients)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--latency",
                          "--timeout", "5s", "-s", str(script), base],
                         capture_output=True, text=True, check=True).stdout
    return _parse_wrk(out)


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def _parse_wrk(out: str) -> dict:
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = _ms(found.group(1)) if found else None
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    result["timeouts"] = int(errors.group(4)) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


def _soak(env: dict, base: str, targets: dict, seconds: int, folder: Path) -> dict:
    """Members vote and comment (the site's own functions, in a child process) while wrk
    reads; afterwards every counter must equal its rows."""
    reader = threading.Thread(target=lambda: result.update(
        _wrk(base, [targets["daily"], targets["trending"]] + targets["paper"][:20], 50,
             seconds, 0.1, targets["cookie"], folder)))
    result: dict = {}
    reader.start()
    written = _child(f"""
import json, random, time
from django.contrib.auth import get_user_model
from paperfeed.community.votes import set_vote
from paperfeed.community.comments import post_comment
from paperfeed.papers.models import Paper
rng = random.Random(7)
users = list(get_user_model().objects.filter(username__startswith="reader")[:200])
papers = list(Paper.objects.filter(feed_date=Paper.objects.latest_feed_day())[:300])
end, votes, comments = time.monotonic() + {seconds}, 0, 0
while time.monotonic() < end:
    if rng.random() < 0.8:
        votes += set_vote(rng.choice(users), rng.choice(papers), rng.random() < 0.7)
    else:
        post_comment(rng.choice(users), rng.choice(papers), "Soak comment"); comments += 1
    time.sleep(0.02)
print(json.dumps({{"vote_changes": votes, "comments": comments}}))
""", env)
    reader.join()
    checked = _child("""
import json
from django.db import connection
from paperfeed.deploy.loadcorpus import counters_match
with connection.cursor() as cursor:
    print(json.dumps(counters_match(cursor)))
""", env)
    return {**written, **checked, "reads": result}


def run(options: dict, stdout) -> int:
    from paperfeed.sources.bench import _shared

    for tool in ("wrk",):
        if not shutil.which(tool):
            stdout.write(f"{tool} is missing: apt-get install -y {tool}\n")
            return 1
    data_dir = options.get("data_dir") or Path(f"/tmp/pf-load-{options['papers']}")
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env.update(DATABASE_URL=_database(options), PAPERFEED_DATA_DIR=str(data_dir),
               PAPERFEED_CACHE_URL=options["cache_url"], PAPERFEED_API_RATE_LIMIT="0",
               DJANGO_SETTINGS_MODULE="paperfeed.settings",
               PAPERFEED_SHARED_DIR=str(_shared(options)))
    start = time.perf_counter()
    built = _child(f"import json; from pathlib import Path; from paperfeed.deploy.loadcorpus "
                   f"import build; print(json.dumps(build({options['papers']}, "
                   f"Path({str(_shared(options))!r}))))", env)
    stdout.write(f"corpus: {built} ({time.perf_counter() - start:.0f} s)\n")
    targets = _targets(env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The guide's command (docs/deploy.md).
    server = subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "serve", "--no-demo",
                               "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows: list[dict] = []
    try:
        _wait(base, server)
        with tempfile.TemporaryDirectory(prefix="pf-wrk-") as folder:
            rows = _drive(options, base, targets, Path(folder), stdout)
            soak = (_soak(env, base, targets, options["soak"], Path(folder))
                    if options["soak"] else None)
    finally:
        server.terminate()
        server.wait(timeout=60)
    if soak:
        stdout.write(f"soak: {soak}\n")
    if not options["no_write"]:
        _report(options, built, rows, soak)
    return 0


def _wait(base: str, server: subprocess.Popen) -> None:
    import urllib.request

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"paperfeed serve exited: {server.stderr.read()[-3000:]}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("paperfeed serve did not come up")


def _drive(options: dict, base: str, targets: dict, folder: Path, stdout) -> list[dict]:
    import urllib.request

    html = urllib.request.urlopen(base + "/papers").read().decode()
    static = re.search(r'href="(/static/paperfeed/site[^"]*\.css)"', html).group(1)
    rows = []
    for page in options["pages"]:
        paths = {"static": [static], "paper": targets.get("paper")}.get(page) or [targets[page]]
        mixes = [0.0] if page in ("static", "api", "search") else [0.0, options["signed_in"]]
        for share in mixes:
            for clients in options["clients"]:
                got = _wrk(base, paths, clients, options["duration"], share, targets["cookie"],
                           folder)
                row = {"page": page, "signed_in": share, "clients": clients, "load": _load(),
                       **got}
                stdout.write(json.dumps(row) + "\n")
                rows.append(row)
    return rows


def _report(options: dict, built: dict, rows: list[dict], soak: dict | None) -> None:
    from paperfeed.lib.benchmarks import write_section

    static = {r["clients"]: r["rps"] for r in rows if r["page"] == "static"}
    lines = [f"## Serving: `paperfeed bench load --papers {options['papers']:,} "
             f"--duration {options['duration']}`",
             "",
             f"PostgreSQL, {built['papers']:,} papers, `paperfeed serve` as in docs/deploy.md "
             "(gunicorn gthread, a process per core, 8 threads; Redis page cache), wrk on "
             "loopback. Ratio: requests/s over the static file's at the same client count, "
             "same run. Load: the machine's 1/5-minute load average when the run ended "
             "(it is shared with other work).",
             "",
             "| page | signed-in | clients | requests/s | × static | p50 ms | p99 ms | errors | load |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r["rps"] / static[r["clients"]] if static.get(r["clients"]) else None
        errors = r["socket_errors"] + r["non_2xx"]
        lines.append(f"| {r['page']} | {r['signed_in']:.0%} | {r['clients']} | {r['rps']:,.0f} | "
                     f"{'' if ratio is None else f'{ratio:.2f}'} | {r['p50_ms'] or 0:.1f} | "
                     f"{r['p99_ms'] or 0:.1f} | {errors} | {r['load']} |")
    if soak:
        lines += ["", f"Soak ({options['soak']} s): {soak['vote_changes']} vote changes and "
                  f"{soak['comments']} comments through the site's functions while wrk read at "
                  f"50 clients ({soak['reads'].get('rps', 0):,.0f} requests/s, "
                  f"{soak['reads'].get('socket_errors', 0) + soak['reads'].get('non_2xx', 0)} "
                  f"errors); papers whose vote counter differs from its rows: "
                  f"{soak['vote_counter_mismatches']}, comment counter: "
                  f"{soak['comment_counter_mismatches']}."]
    write_section(f"load-{options['papers']}", "\n".join(lines))
