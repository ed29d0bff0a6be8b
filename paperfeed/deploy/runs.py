"""The wrk runs of ``paperfeed bench load`` against a running site: each page saturating,
then the pages with a latency target paced (deploy/wrk.py), each after its warm-up, every
row with the page cache's hits and misses from the site's own metrics.

Pure HTTP on loopback, like deploy/soak.py: nothing here imports Django.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import quote_plus

from paperfeed.deploy import soak, wrk
from paperfeed.deploy.loadreport import LATENCY_RATIOS, TARGET_CLIENTS


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


def cache_counts(base: str) -> dict:
    """The page cache's outcomes so far, from the site's own metrics."""
    try:
        _, _, body = soak.request(base, "GET", "/metrics")
    except OSError:
        return {}
    return {outcome: float(n) for outcome, n in re.findall(
        r'^paperfeed_page_cache_requests_total\{outcome="(\w+)"\} ([\d.e+]+)', body.decode(),
        re.M)}


def _paths(page: str, targets: dict, static: str) -> list[str]:
    if page == "static":
        return [static]
    if page == "paper":
        return targets["paper"]
    if page == "search":
        return [f"/papers/search?q={quote_plus(q)}" for q in targets["queries"]]
    return [targets[page]]


def _static_path(base: str) -> str:
    """The site's stylesheet, as the daily page links it (the static baseline)."""
    _, _, body = soak.request(base, "GET", "/papers")
    html = body.decode()
    return re.search(r'href="(/static/paperfeed/site[^"]*\.css)"', html).group(1)


def drive(options: dict, base: str, targets: dict, folder: Path, stdout) -> list[dict]:
    static = _static_path(base)
    rows = []
    for page in options["pages"]:
        paths = _paths(page, targets, static)
        mixes = [0.0] if page in ("static", "api", "search") else [0.0, options["signed_in"]]
        if page == "search":
            stdout.write(f"search: each web process has its model after "
                         f"{_load_models(base, paths):.0f} s\n")
        if options["warmup"]:
            _visit_each(base, paths)
            wrk.run(base, paths, 10, options["warmup"], 0.0, [], folder)
        for share in mixes:
            for clients in options["clients"]:
                rows.append(_measure(base, page, paths, clients, options["duration"], share,
                                     targets["cookies"], folder, stdout))
    return rows


def _visit_each(base: str, paths: list[str], clients: int = 8) -> None:
    """Every distinct path once before a page's runs, as readers would have over a
    site's morning: the runs measure the pages' steady state, not the first render of
    each of 2,000 papers (their hit rate is in each row)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda path: soak.request(base, "GET", path), sorted(set(paths))))


def _measure(base: str, page: str, paths: list[str], clients: int, duration: int,
             share: float, cookies: list[str], folder: Path, stdout,
             rate: float | None = None) -> dict:
    before = cache_counts(base)
    got = wrk.run(base, paths, clients, duration, share, cookies, folder, rate)
    after = cache_counts(base)
    cache = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    row = {"page": page, "signed_in": share, "clients": clients, "load": _load(),
           "paths": len(paths), **got,
           "cache_hits": cache.get("hits", 0), "cache_misses": cache.get("misses", 0)}
    stdout.write(json.dumps(row) + "\n")
    return row


def drive_paced(options: dict, base: str, targets: dict, rows: list[dict], folder: Path,
                 stdout) -> list[dict]:
    """The pages with a latency target at 200 clients held to their target rate, and
    the static file at the same rate: rows with ``asked_rps`` (deploy/wrk.py)."""
    static_rps = next((r["rps"] for r in rows if r["page"] == "static"
                       and r["clients"] == TARGET_CLIENTS), None)
    if not static_rps:
        stdout.write(f"no paced runs: they need the static file's rate at {TARGET_CLIENTS} "
                     "clients (--pages static, --clients ... 200)\n")
        return []
    static = _static_path(base)
    paced = []
    for page, ratio, rate in wrk.paced_plan(options["pages"], LATENCY_RATIOS, static_rps):
        paths = _paths(page, targets, static)
        if options["warmup"] and page != "static":
            _visit_each(base, paths)
            wrk.run(base, paths, 10, options["warmup"], 0.0, [], folder)
        stdout.write(f"paced {page}: {rate:,.0f} requests/s ({ratio:g}× static) over "
                     f"{TARGET_CLIENTS} clients, one every "
                     f"{wrk.connection_delay_ms(rate, TARGET_CLIENTS):.0f} ms per client\n")
        row = _measure(base, page, paths, TARGET_CLIENTS, options["paced_duration"], 0.0, [],
                       folder, stdout, rate)
        paced.append({**row, "ratio": ratio})
    return paced


def _load_models(base: str, paths: list[str], patience: float = 300.0) -> float:
    """Each web process loads the embedding model on its first search (seconds, more
    under load): rounds of searches at once until a whole round answers quickly, so
    every process has it before the warm-up and no measured run pays for it. Returns
    the seconds it took."""
    started = time.monotonic()
    at = 0
    while time.monotonic() - started < patience:
        took: list[float] = []

        def one(path: str, took: list[float] = took) -> None:
            begin = time.monotonic()
            try:
                soak.request(base, "GET", path, timeout=patience)
            except OSError:
                return
            took.append(time.monotonic() - begin)

        batch = [paths[(at + n) % len(paths)] for n in range(8)]
        at += 8
        threads = [threading.Thread(target=one, args=(path,)) for path in batch]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(took) == len(batch) and max(took) < 1.5:
            break
    return time.monotonic() - started
