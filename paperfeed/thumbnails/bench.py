"""``paperfeed bench thumbnails``: how fast the thumbnail worker goes, with and without arXiv's delay.

A child process gets a scratch SQLite data dir (the user's database is never touched),
N feed papers and a loopback server serving a Chromium-printed two-page A4 PDF for each.
It then times :func:`paperfeed.thumbnails.worker.run_once` — enqueue, claim, fetch through
the polite client, render in a forked child, store — first with no delay between requests,
then with ``--delay`` seconds (arXiv asks for 3), which is what the worker really does.
The same-run baselines are page 1 rendered in-process (PDFium + WebP only) and through
the forked renderer the worker uses, so the ratios show what fetching, the database and
the fork add.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

NAME = "thumbnails"
HELP = "Thumbnails/s of the worker rendering a real PDF from loopback, with and without the delay."


def add_arguments(parser) -> None:
    parser.add_argument("--papers", type=int, default=40, help="papers rendered without delay")
    parser.add_argument("--delayed-papers", type=int, default=5,
                        help="papers rendered with the politeness delay (real waiting)")
    parser.add_argument("--delay", type=float, default=3.0,
                        help="seconds between requests in the delayed run (arXiv: 3)")
    parser.add_argument("--no-write", action="store_true",
                        help="print the figures without updating docs/benchmarks.md")


def _time(function, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        function()
    return time.perf_counter() - started


def _child(papers: int, delayed: int, delay: float) -> dict:
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from paperfeed import conf
    from paperfeed.papers.merge import apply_records
    from paperfeed.papers.records import PaperRecord
    from paperfeed.sources.http import PoliteClient
    from paperfeed.sources.testing import ReplayServer, Reply
    from paperfeed.thumbnails import render, storage, worker
    from paperfeed.thumbnails.models import Thumbnail
    from paperfeed.thumbnails.testing import chromium_pdf

    call_command("migrate", verbosity=0)
    pdf = chromium_pdf()
    width, pixels = conf.value("PAPERFEED_THUMBNAIL_WIDTH"), conf.value("PAPERFEED_THUMBNAIL_MAX_PIXELS")
    in_process = _time(lambda: render._render_page_one(pdf, width, pixels), papers)
    forked = _time(lambda: render.render_first_page(pdf, width=width, max_pixels=pixels,
                                                    timeout=30), papers)
    today = timezone.now().date()
    ids = [f"2601.{n:05d}" for n in range(1, papers + 1)]
    apply_records([PaperRecord(source="arxiv-api", original_id=i, title=f"Bench paper {i}",
                               arxiv_id=i, feed_date=today - dt.timedelta(days=n % 7))
                   for n, i in enumerate(ids)])
    with ReplayServer() as server:
        for i in ids:
            server.add(f"/pdf/{i}", Reply(200, pdf, content_type="application/pdf"))
        os.environ["PAPERFEED_THUMBNAIL_PDF_URL"] = server.url + "/pdf"
        started = time.perf_counter()
        fast = worker.run_once(client=PoliteClient(delay=0))
        no_delay = time.perf_counter() - started
        image_bytes = sum(len(bytes(t.image)) for t in Thumbnail.objects.all())
        Thumbnail.objects.all().delete()
        shutil.rmtree(storage.directory(), ignore_errors=True)
        started = time.perf_counter()
        polite = PoliteClient(delay=delay)
        # As in a worker that has been running: even the first request waits its turn.
        polite._last_request = polite.clock()
        slow = worker.run_once(client=polite, limit=delayed)
        with_delay = time.perf_counter() - started
    return {"papers": papers, "done": fast["done"], "no_delay": no_delay,
            "delayed": delayed, "delayed_done": slow["done"], "with_delay": with_delay,
            "in_process": in_process, "forked": forked, "pdf_bytes": len(pdf),
            "image_bytes": image_bytes / max(1, fast["done"])}


def run(options: dict, stdout) -> int:
    papers, delayed, delay = options["papers"], options["delayed_papers"], options["delay"]
    workdir = tempfile.mkdtemp(prefix="pf-bench-thumbnails-")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PAPERFEED_DATA_DIR=workdir, PAPERFEED_LOG_LEVEL="ERROR",
               DJANGO_SETTINGS_MODULE="paperfeed.settings")
    stdout.write(f"rendering {papers} papers, then {delayed} with a {delay:g} s delay, in {workdir}\n")
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import json, sys; from paperfeed.thumbnails.bench import _child; "
             f"print(json.dumps(_child({papers}, {delayed}, {delay!r})))"],
            env=env, capture_output=True, text=True, timeout=1800)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.returncode != 0:
        stdout.write(f"the benchmark failed:\n{result.stderr[-3000:]}\n")
        return 1
    r = json.loads(result.stdout.strip().splitlines()[-1])
    base = papers / r["in_process"]
    rows = [
        "| what | thumbnails/s | vs render only |",
        "|---|---:|---:|",
        f"| render only: PDFium page 1 + WebP in-process (baseline, {papers}) | {base:.1f} | 1.00 |",
        f"| the worker's renderer: the same in a forked child with a timeout ({papers}) "
        f"| {papers / r['forked']:.1f} | {papers / r['forked'] / base:.2f} |",
        f"| **`paperfeed thumbnails`**, no delay: enqueue, claim, fetch from loopback, render, "
        f"store ({r['done']}) | **{r['done'] / r['no_delay']:.1f}** "
        f"| {r['done'] / r['no_delay'] / base:.2f} |",
        f"| **`paperfeed thumbnails`** with arXiv's {delay:g} s between requests "
        f"({r['delayed_done']}) | **{r['delayed_done'] / r['with_delay']:.2f}** "
        f"| {r['delayed_done'] / r['with_delay'] / base:.3f} |",
    ]
    per_hour = 3600 * r["delayed_done"] / r["with_delay"]
    markdown = "\n".join([
        "## Thumbnails: `paperfeed bench thumbnails`",
        "",
        f"A two-page A4 paper printed to PDF by Chromium ({r['pdf_bytes'] / 1024:.0f} KiB), served "
        f"from loopback for each of {papers} feed papers; scratch SQLite database; thumbnails "
        f"{conf_width()} px wide, {r['image_bytes'] / 1024:.1f} KiB of WebP on average.",
        "",
        *rows,
        "",
        f"- with the delay one worker does about **{per_hour:,.0f} thumbnails an hour**, far more "
        "than a day's feed (~30-100 papers); the delay, not rendering, sets the pace, so more "
        "workers behind one address would only break arXiv's one-request-at-a-time rule",
        f"- reproduce: `paperfeed bench thumbnails --papers {papers} --delayed-papers {delayed} "
        f"--delay {delay:g}`",
    ])
    stdout.write(markdown + "\n")
    if not options["no_write"]:
        from paperfeed.lib.benchmarks import write_section

        write_section("thumbnails", markdown)
    return 0


def conf_width() -> int:
    from paperfeed import conf

    return conf.value("PAPERFEED_THUMBNAIL_WIDTH")
