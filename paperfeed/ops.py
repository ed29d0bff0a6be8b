"""For the operator: /healthz, /readyz and Prometheus metrics at /metrics.

Metrics from the web processes (requests per route, latency, page cache) are counted in
each process; under granian's or gunicorn's several processes
``PROMETHEUS_MULTIPROC_DIR`` (set by `paperfeed serve`) makes /metrics add them up across
processes. Figures that live in the database (job queue depth, the ingest sources' last
successful runs, digests, index lag) are read when /metrics is scraped, so any process
answers the same.
"""

from __future__ import annotations

import logging
import os
import time
from functools import lru_cache

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from paperfeed import replicas

log = logging.getLogger("paperfeed.access")

REQUESTS = Counter("paperfeed_http_requests_total", "HTTP requests answered, by route and status",
                   ["route", "method", "status"])
LATENCY = Histogram("paperfeed_http_request_duration_seconds", "Time to answer, by route",
                    ["route"], buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
PAGE_CACHE = Counter("paperfeed_page_cache_requests_total",
                     "Hot-page requests by outcome: hits, misses, stale (the previous copy while "
                     "another request renders the page), bypassed (not cacheable)",
                     ["outcome"])


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; touches nothing else (for liveness probes)."""
    return HttpResponse("ok\n", content_type="text/plain")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    from django.core.cache import cache

    key = f"pf:readyz:{os.getpid()}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("a value written to the cache did not come back")


def _check_search() -> None:
    from paperfeed.search.service import get_engine

    _ = get_engine().keyword.num_docs  # opens and reads the index


CHECKS = {"database": _check_database, "cache": _check_cache, "search": _check_search}


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the cache and the search index all answer; else 503 naming
    what failed and why (for load balancers' readiness checks). Read replicas, if any,
    are reported (usable, lag) but do not count: reads fall back to the primary."""
    results, ready = {}, True
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # the point is to report any failure, whatever it is
            ready = False
            results[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
            log.warning("readyz: %s %s", name, results[name])
    body = {"ready": ready, "checks": results}
    if replicas.aliases():
        # Reported, never failing readiness: without a replica, reads go to the primary.
        body["replicas"] = replicas.report()
    return JsonResponse(body, status=200 if ready else 503)


class DatabaseCollector:
    """Gauges read from the database at each scrape."""

    def collect(self):
        from django.db.models import Count, Max, Q

        from paperfeed.digests.models import Delivery
        from paperfeed.papers.models import Paper, PendingAnnouncement
        from paperfeed.search.models import PaperEmbedding
        from paperfeed.sources.models import ScheduledJob

        jobs = GaugeMetricFamily("paperfeed_job_last_success_timestamp_seconds",
                                 "When each scheduled ingest job last finished successfully "
                                 "(0: never)", labels=["job"])
        due = GaugeMetricFamily("paperfeed_job_overdue_seconds",
                                "How late each scheduled job is (0: not due yet)", labels=["job"])
        now = time.time()
        for row in ScheduledJob.objects.all():
            ok = row.last_finished_at.timestamp() if row.last_ok and row.last_finished_at else 0
            jobs.add_metric([row.name], ok)
            due.add_metric([row.name], max(0.0, now - row.next_run_at.timestamp()))
        yield jobs
        yield due

        deliveries = GaugeMetricFamily("paperfeed_digest_deliveries",
                                       "Digest deliveries by state (sent, failed, in_doubt, "
                                       "pending...)", labels=["state"])
        counts = dict(Delivery.objects.order_by().values_list("state").annotate(n=Count("pk")))
        for state in Delivery.State.values:
            deliveries.add_metric([state], counts.get(state, 0))
        yield deliveries

        queue = GaugeMetricFamily("paperfeed_job_queue_depth",
                                  "Work waiting for a worker, by queue", labels=["queue"])
        queue.add_metric(["digests"], sum(counts.get(s, 0) for s in ("pending", "claimed")))
        queue.add_metric(["announcements"], PendingAnnouncement.objects.count())
        visible = Paper.objects.visible().count()
        embedded = PaperEmbedding.objects.filter(paper__status=Paper.Status.VISIBLE).count()
        queue.add_metric(["embeddings"], max(0, visible - embedded))
        yield queue

        lag = GaugeMetricFamily("paperfeed_search_index_lag_papers",
                                "Visible papers the keyword index does not hold yet")
        try:
            from paperfeed.search.service import get_engine

            lag.add_metric([], max(0, visible - get_engine().keyword.num_docs))
        except Exception:  # reported by /readyz; the other metrics still matter
            log.exception("metrics: the keyword index could not be read")
        yield lag
        yield from _follower_lag()
        yield from _replica_lag()
        newest = Paper.objects.aggregate(t=Max("updated_at"), n=Count("pk", filter=Q(pk__gt=0)))
        changed = GaugeMetricFamily("paperfeed_papers_last_change_timestamp_seconds",
                                    "When a paper last changed (ingest, vote, curator)")
        changed.add_metric([], newest["t"].timestamp() if newest["t"] else 0)
        yield changed


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        for collector in list(REGISTRY._collector_to_names):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return registry


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


# Methods counted by name; any other a client makes up is "other" (one series each would
# grow without end).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@lru_cache(maxsize=4096)
def _series(route: str, method: str, status: int):
    """The request counter's and latency histogram's series for a request (looked up once:
    labels() takes a lock and checks its arguments on every call)."""
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route)


class MetricsMiddleware:
    """Counts and times every request by its route pattern (never the raw path: one
    series per paper would grow without end), and logs it at DEBUG with the client's
    address as PAPERFEED_PROXY_COUNT defines it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - start
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        method = request.method if request.method in METHODS else "other"
        counted, timed = _series(route, method, response.status_code)
        counted.inc()
        timed.observe(elapsed)
        if log.isEnabledFor(logging.DEBUG):
            from paperfeed.lib.forwarded import client_address

            log.debug("%s %s %s %d %.1fms", client_address(request), request.method,
                      request.get_full_path()[:300], response.status_code, elapsed * 1000)
        return response


def _follower_lag():
    """Each search host's follower (search/follower.py), as it last reported: entries of
    the change log it has not applied, and the age of the oldest of them."""
    from paperfeed.search.follower import hosts_lag

    behind = GaugeMetricFamily("paperfeed_search_follower_behind_entries",
                               "Change-log entries a host's search follower has not applied",
                               labels=["host"])
    seconds = GaugeMetricFamily("paperfeed_search_follower_lag_seconds",
                                "Age of the oldest change-log entry a host has not applied",
                                labels=["host"])
    for host in hosts_lag():
        behind.add_metric([host.name], host.behind)
        seconds.add_metric([host.name], host.lag_seconds)
    yield behind
    yield seconds


def _replica_lag():
    """Each read replica as last checked by this process (paperfeed/replicas.py)."""
    aliases = replicas.aliases()
    if not aliases:
        return
    usable = GaugeMetricFamily("paperfeed_db_replica_usable",
                               "1 when a read replica answers within PAPERFEED_REPLICA_MAX_LAG",
                               labels=["replica"])
    lag = GaugeMetricFamily("paperfeed_db_replica_lag_seconds",
                            "How far a read replica's replay is behind (-1: unreachable)",
                            labels=["replica"])
    for alias in aliases:
        found = replicas.status(alias)
        usable.add_metric([alias], 1 if found.usable else 0)
        lag.add_metric([alias], -1 if found.lag_seconds is None else found.lag_seconds)
    yield usable
    yield lag
