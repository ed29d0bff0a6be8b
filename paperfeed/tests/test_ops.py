"""/healthz, /readyz and /metrics (paperfeed/ops.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from paperfeed.papers.tests.factories import paper

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


def test_readyz_checks_database_cache_and_search(client, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(tmp_path / "search"))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {
        "database": "ok", "cache": "ok", "search": "ok"}}


def test_readyz_names_an_unreachable_cache(client, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(tmp_path / "search"))
    # A port nothing listens on: the Redis client's connection is refused.
    with override_settings(CACHES={"default": {
            "BACKEND": "paperfeed.rediscache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1}}}):
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["cache"].startswith("failed: ConnectionError")


def test_readyz_names_an_unreadable_search_index(client, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(blocker))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["search"].startswith("failed:")


def test_metrics_count_routes_cache_outcomes_jobs_digests_and_index_lag(client, tmp_path,
                                                                      monkeypatch):
    from paperfeed.sources.models import ScheduledJob

    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(tmp_path / "search"))
    paper(title="Counted", feed_date=dt.date(2026, 11, 20))
    finished = dt.datetime(2026, 11, 20, 6, 5, tzinfo=dt.UTC)
    ScheduledJob.objects.create(name="hf-daily", next_run_at=finished, last_ok=True,
                                last_finished_at=finished)
    before = _sample(client.get("/metrics").content.decode(),
                     "paperfeed_page_cache_requests_total", outcome="hits")
    for _ in range(3):
        client.get("/papers/date/2026-11-20")
    text = client.get("/metrics").content.decode()
    day = "papers/date/<isodate:date>"
    assert _sample(text, "paperfeed_http_requests_total", route=day, method="GET",
                   status="200") >= 3
    assert _sample(text, "paperfeed_page_cache_requests_total", outcome="hits") == before + 2
    assert _sample(text, "paperfeed_http_request_duration_seconds_count", route=day) >= 3
    assert _sample(text, "paperfeed_job_last_success_timestamp_seconds", job="hf-daily") == \
        finished.timestamp()
    assert _sample(text, "paperfeed_digest_deliveries", state="in_doubt") == 0
    assert _sample(text, "paperfeed_job_queue_depth", queue="embeddings") == 1
    # Nothing indexed this paper (papers_changed fires after a commit tests never make).
    assert _sample(text, "paperfeed_search_index_lag_papers") == 1


def test_a_method_a_client_made_up_is_counted_as_other_not_as_a_new_series(client):
    made_up = [f"BREW{n}" for n in range(5)]
    for method in made_up:
        client.generic(method, "/healthz")
    text = client.get("/metrics").content.decode()
    assert not any(f'method="{method}"' in text for method in made_up)
    assert _sample(text, "paperfeed_http_requests_total", route="healthz", method="other",
                   status="200") >= 5


def test_metrics_show_each_search_hosts_follower_lag(client):
    from django.utils import timezone

    from paperfeed.search.models import SearchHost

    SearchHost.objects.create(host_id="b", name="web-2", seen_at=timezone.now())
    paper(title="Not followed yet", feed_date=dt.date(2026, 11, 20))  # a change-log entry
    text = client.get("/metrics").content.decode()
    assert _sample(text, "paperfeed_search_follower_behind_entries", host="web-2") >= 1
    assert _sample(text, "paperfeed_search_follower_lag_seconds", host="web-2") >= 0


def _sample(text: str, name: str, **labels) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0
