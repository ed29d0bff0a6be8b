"""``paperfeed bench paper-page``: what a paper page costs when the page cache misses, and
where that time goes, on the configured database and data directory.

Pages are rendered through Django's whole stack in this process (no network; the page
cache off), for papers drawn evenly across the corpus (a fixed seed) and for papers with
an embedding, whose related papers come from the vector index instead of the keyword
one. For each page: wall and CPU time; within it, every SQL query (timed at the
connection) and the "Related papers" lookup (the search app's tag, timed around its real
call); what is left is templates and Python. The pages across the corpus are then
rendered once more: a miss after a vote or a comment, with the related papers cached.
The run has a cache of its own (nothing cached before it is read). `bench load`
measures the same pages under wrk; this one says which part of a miss to work on.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from contextlib import contextmanager

from paperfeed.lib.cli_args import non_negative_int, positive_int

NAME = "paper-page"
WARM = 3  # pages rendered before any is timed: connections, templates, index readers
HELP = "Render paper pages with the page cache off, in-process; where a miss spends its time."


def add_arguments(parser) -> None:
    parser.add_argument("--pages", type=positive_int, default=50,
                        help="papers drawn evenly across the corpus")
    parser.add_argument("--embedded", type=non_negative_int, default=10,
                        help="papers with an embedding, measured apart (0: none)")
    parser.add_argument("--seed", type=non_negative_int, default=14)
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs alone.")


class _Clock:
    """Time spent in one kind of call during a page (SQL, related papers)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def timed(self, call, *args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


@contextmanager
def _timing_related(clock: _Clock):
    # The tag calls the module's own name for the service; time the real call there.
    from paperfeed.search.templatetags import search_tags

    real = search_tags.related_to
    search_tags.related_to = lambda *args, **kwargs: clock.timed(real, *args, **kwargs)
    try:
        yield
    finally:
        search_tags.related_to = real


def sample(count: int, embedded: int, seed: int) -> dict[str, list[str]]:
    """The URLs to render: ``count`` papers spread over the id range, and up to
    ``embedded`` papers that have an embedding; "warm-up": three more, rendered first."""
    from paperfeed.papers.models import Paper
    from paperfeed.search.models import PaperEmbedding

    visible = Paper.objects.visible()
    first = visible.order_by("pk").values_list("pk", flat=True).first()
    last = visible.order_by("-pk").values_list("pk", flat=True).first()
    if first is None:
        raise SystemExit("bench paper-page: the database has no visible papers "
                         "(DATABASE_URL names which one is used)")
    rng = random.Random(seed)
    span = range(first, last + 1)
    picked = rng.sample(span, min(len(span), (count + WARM) * 3))
    papers = list(visible.filter(pk__in=picked).order_by("pk")[:count + WARM])
    rng.shuffle(papers)
    with_vectors = list(visible.filter(pk__in=PaperEmbedding.objects.values("paper_id")
                                       .order_by("paper_id")[:embedded])
                        .exclude(pk__in=[p.pk for p in papers]))
    return {"warm-up": [p.get_absolute_url() for p in papers[count:]],
            "across the corpus": [p.get_absolute_url() for p in papers[:count]],
            "with an embedding": [p.get_absolute_url() for p in with_vectors]}


def measure(urls: list[str]) -> dict[str, list[float]]:
    """Per page, in ms: ``page`` (wall), ``cpu``, ``sql``, ``queries``, ``related``, ``rest``."""
    from django.db import connection
    from django.test import Client, override_settings

    client = Client()
    found: dict[str, list[float]] = {k: [] for k in
                                     ("page", "cpu", "sql", "queries", "related", "rest")}
    with override_settings(PAGE_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        for url in urls:
            sql, related = _Clock(), _Clock()
            with connection.execute_wrapper(lambda execute, *args, clock=sql: clock.timed(
                    execute, *args)), _timing_related(related):
                cpu, start = time.thread_time(), time.perf_counter()
                response = client.get(url)
                wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
            if response.status_code != 200:
                raise SystemExit(f"bench paper-page: {url} answered {response.status_code}")
            for key, value in (("page", wall), ("cpu", cpu), ("sql", sql.seconds),
                               ("related", related.seconds),
                               ("rest", wall - sql.seconds - related.seconds)):
                found[key].append(value * 1000)
            found["queries"].append(sql.calls)
    return found


@contextmanager
def isolated_cache():
    """A cache of the run's own, so nothing another run or the site cached is read."""
    from django.test import override_settings

    with override_settings(CACHES={"default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"bench-paper-page-{uuid.uuid4()}"}}):
        yield


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


ROWS = [("page", "a page, wall time"), ("cpu", "a page, CPU time of this process"),
        ("sql", "SQL (all queries, at the connection)"), ("related", "related papers (search)"),
        ("rest", "the rest: templates and Python")]


def report(results: dict[str, dict[str, list[float]]], papers: int) -> str:
    groups = [name for name, found in results.items() if found["page"]]
    head = " | ".join(f"{name} ({len(results[name]['page'])}) p50 | p90" for name in groups)
    lines = [f"## A paper page on a page-cache miss, {papers:,} papers", "",
             "`paperfeed bench paper-page`: paper pages rendered in-process through Django's "
             "whole stack with the page cache off (deploy/benchpage.py), milliseconds. Papers "
             "drawn evenly across the corpus; papers with an embedding take their related "
             "papers from the vector index, the others from the keyword index "
             "(search/keyword.py, `related`); *again*: the same pages as the first column "
             "once more, their related papers from the cache (a page re-rendered after a "
             "vote or comment). Load average at the end: "
             + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores.",
             "", f"| part | {head} |", "|---|" + "---|---|" * len(groups)]
    for key, label in ROWS:
        cells = " | ".join(f"{percentile(results[g][key], .5):.1f} | "
                           f"{percentile(results[g][key], .9):.1f}" for g in groups)
        lines.append(f"| {label} | {cells} |")
    cells = " | ".join(f"{percentile(results[g]['queries'], .5):.0f} | "
                       f"{percentile(results[g]['queries'], .9):.0f}" for g in groups)
    lines.append(f"| SQL queries | {cells} |")
    lines += ["", "Reproduce: `DATABASE_URL=... PAPERFEED_DATA_DIR=... paperfeed bench "
              "paper-page` (a copy of the `bench load` corpus's data directory will do)."]
    return "\n".join(lines)


def run(options: dict, stdout) -> int:
    from paperfeed.papers.models import Paper

    urls = sample(options["pages"], options["embedded"], options["seed"])
    with isolated_cache():
        measure(urls.pop("warm-up"))
        results = {name: measure(found) for name, found in urls.items()}
        results["again (related cached)"] = measure(urls["across the corpus"])
    text = report(results, Paper.objects.count())
    stdout.write(text + "\n")
    if not options.get("no_write"):
        from paperfeed.lib.benchmarks import write_section

        write_section("paper-page", text)
    return 0
