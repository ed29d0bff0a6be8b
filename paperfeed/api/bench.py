"""``paperfeed bench api``: how much the API, feeds and exports cost per request.

Requests go through Django's full stack in-process (no network), against the configured
database; an empty database gets the demo corpus first. The baseline, measured in the same
run, is the HTML daily page, so the ratios say what a JSON client or a feed reader costs
compared with a visitor. Two more pairs measure the rate limiter (a database write per
anonymous request) and ETag revalidation (a 304 instead of the body).
"""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from paperfeed.lib.benchmarks import write_section

NAME = "api"
HELP = "Time API routes, feeds and exports against the HTML daily page (writes docs/benchmarks.md)."

ROUTES = [
    ("HTML daily page (baseline)", "/papers"),
    ("`/api/daily_papers?limit=50`", "/api/daily_papers?limit=50"),
    ("`/api/v1/papers?limit=50`", "/api/v1/papers?limit=50"),
    ("`/api/v1/papers?limit=50&sort=upvotes`", "/api/v1/papers?limit=50&sort=upvotes"),
    ("`/api/v1/search?q=language+model`", "/api/v1/search?q=language+model&limit=20"),
    ("`/feeds/daily.rss`", "/feeds/daily.rss"),
    ("`/api/v1/papers.bib?limit=50`", "/api/v1/papers.bib?limit=50"),
]


def add_arguments(parser) -> None:
    parser.add_argument("--requests", type=int, default=60, help="Timed requests per route.")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="First top the database up to N papers with synthetic ones "
                             "(random dates and votes, fixed seed), to see how routes scale. "
                             "Use a throwaway database.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs alone.")


def _medians_ms(client: Client, cases: dict[str, tuple[str, dict, dict]], rounds: int) -> dict:
    """Median ms per case. Rounds interleave the cases, so a busy neighbour on a shared
    machine slows all of them alike instead of whichever ran at the time."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(rounds + 1):
        for name, (url, headers, paperfeed) in cases.items():
            with override_settings(PAPERFEED=paperfeed):
                start = time.perf_counter()
                response = client.get(url, **headers)
                elapsed = time.perf_counter() - start
            assert response.status_code in (200, 304), (url, response.status_code)
            if round_number:  # round 0 warms caches and connections
                times[name].append(elapsed)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def _add_synthetic(total: int) -> None:
    import datetime as dt
    import random

    from paperfeed.papers.models import Paper

    rng = random.Random(1)
    start, have = dt.date(2020, 1, 1), Paper.objects.count()
    rows = []
    for i in range(have, total):
        day = start + dt.timedelta(days=rng.randrange(2000))
        rows.append(Paper(slug=f"synthetic-{i}", title=f"Synthetic paper {i}",
                          title_key=f"synthetic paper {i}",
                          published_on=None if i % 50 == 0 else day,
                          feed_date=day if i % 3 else None, upvotes_imported=rng.randrange(200)))
    Paper.objects.bulk_create(rows, batch_size=5000)


def _deep_page(client: Client, depth: int) -> tuple[str, int]:
    """The URL of page ``depth + 1`` of ``/api/v1/papers`` (or the last), and its number."""
    url, number = "/api/v1/papers?limit=50", 1
    while number <= depth:
        following = client.get(url).json()["next"]
        if not following:
            break
        parts = urlsplit(following)
        url, number = f"{parts.path}?{parts.query}", number + 1
    return url, number


def run(options, stdout) -> int:
    from paperfeed.papers.models import Paper

    call_command("migrate", verbosity=0)
    if options["synthetic"]:
        _add_synthetic(options["synthetic"])
    if not Paper.objects.exists():
        from paperfeed.sources.demo import load_demo_corpus

        load_demo_corpus()
    count = options["requests"]
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "127.0.0.1"
    client = Client(SERVER_NAME=host)
    no_limit = {**settings.PAPERFEED, "API_RATE_LIMIT": 0}
    with_limit = {**settings.PAPERFEED, "API_RATE_LIMIT": 10**9, "API_RATE_WINDOW": 3600}
    with override_settings(PAPERFEED=no_limit):
        etag = client.get("/api/daily_papers?limit=50")["ETag"]
        deep, deep_number = _deep_page(client, 20)
    cases = {label: (url, {}, no_limit) for label, url in ROUTES}
    cases["deep"] = (deep, {}, no_limit)
    cases["304"] = ("/api/daily_papers?limit=50", {"HTTP_IF_NONE_MATCH": etag}, no_limit)
    cases["limited"] = ("/api/daily_papers?limit=50", {}, with_limit)
    medians = _medians_ms(client, cases, count)
    baseline = medians[ROUTES[0][0]]
    rows = [(label, medians[label], medians[label] / baseline) for label, _ in ROUTES]
    revalidate, limited, daily = medians["304"], medians["limited"], rows[1][1]
    papers = Paper.objects.count()
    table = [
        f"`paperfeed bench api --requests {count}` on {papers} papers "
        f"({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}), median of {count} interleaved "
        "in-process requests each:",
        "",
        "| Route | Median ms | vs. HTML daily page |",
        "|---|---:|---:|",
        *(f"| {label} | {ms:.1f} | {ratio:.2f}× |" for label, ms, ratio in rows),
        "",
        "| Same route, other conditions | Median ms | vs. plain `/api/daily_papers` |",
        "|---|---:|---:|",
        f"| revalidation with `If-None-Match` (304) | {revalidate:.1f} | {revalidate / daily:.2f}× |",
        f"| `/api/v1/papers?limit=50`, page {deep_number} (by cursor) | {medians['deep']:.1f} | "
        f"{medians['deep'] / daily:.2f}× |",
        f"| anonymous, rate limit on (database counter) | {limited:.1f} | {limited / daily:.2f}× |",
    ]
    title, section = "## API, feeds and exports", NAME
    if options["synthetic"]:
        title += f" at {papers:,} papers"
        section = f"{NAME}-synthetic"
        table[0] = table[0].replace("--requests", f"--synthetic {options['synthetic']} --requests")
    markdown = title + "\n\n" + "\n".join(table)
    stdout.write(markdown + "\n")
    if not options["no_write"]:
        write_section(section, markdown)
    return 0
