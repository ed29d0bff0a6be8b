"""Read replicas: the settings, the routing rules, the pin, and a real streaming replica."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from paperfeed import replicas
from paperfeed import settings as project_settings
from paperfeed.lib import dbreads
from paperfeed.tests.pgcluster import PrimaryWithReplica, Unavailable

REPO = Path(__file__).resolve().parents[2]
PRIMARY_URL = "postgres://app:secret@db-primary:5432/paperfeed?sslmode=require"


def _databases(monkeypatch, **env) -> dict:
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URLS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return project_settings._databases()


def test_each_replica_url_becomes_an_alias_with_the_primarys_options(monkeypatch):
    databases = _databases(
        monkeypatch, DATABASE_URL=PRIMARY_URL,
        DATABASE_REPLICA_URLS="postgres://ro:pw@db-r1:5433/paperfeed, "
                              "postgres://ro:pw@db-r2/paperfeed?connect_timeout=1")
    assert list(databases) == ["default", "replica1", "replica2"]
    primary, first, second = databases.values()
    assert (first["HOST"], first["PORT"], first["USER"], first["PASSWORD"]) == ("db-r1", 5433, "ro", "pw")
    assert second["HOST"] == "db-r2"
    for replica in (first, second):
        assert replica["ENGINE"] == primary["ENGINE"]
        assert replica["CONN_MAX_AGE"] == primary["CONN_MAX_AGE"]
        assert replica["CONN_HEALTH_CHECKS"] is True
        assert replica["OPTIONS"]["sslmode"] == "require"  # the primary's option carries over
        assert replica["TEST"] == {"MIRROR": "default"}
    assert first["OPTIONS"]["connect_timeout"] == 3
    assert second["OPTIONS"]["connect_timeout"] == 1  # the replica's own option wins
    assert "TEST" not in primary or primary["TEST"].get("MIRROR") is None


def test_without_replica_urls_there_is_only_the_primary(monkeypatch):
    assert list(_databases(monkeypatch, DATABASE_URL=PRIMARY_URL)) == ["default"]
    assert list(_databases(monkeypatch, DATABASE_URL=PRIMARY_URL, DATABASE_REPLICA_URLS=" ,")) == ["default"]


def test_replicas_need_a_postgresql_primary(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="needs DATABASE_URL to name a PostgreSQL primary"):
        _databases(monkeypatch, DATABASE_REPLICA_URLS="postgres://ro@db-r1/paperfeed")
    with pytest.raises(ImproperlyConfigured, match="needs DATABASE_URL to name a PostgreSQL primary"):
        _databases(monkeypatch, DATABASE_URL="sqlite:////tmp/x.sqlite3",
                   DATABASE_REPLICA_URLS="postgres://ro@db-r1/paperfeed")


def test_a_bad_replica_url_names_its_entry(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_REPLICA_URLS \(entry 2\) is not a database URL"):
        _databases(monkeypatch, DATABASE_URL=PRIMARY_URL,
                   DATABASE_REPLICA_URLS="postgres://ro@db-r1/paperfeed,nonsense://x")
    with pytest.raises(ImproperlyConfigured, match="entry 1 is not a PostgreSQL URL"):
        _databases(monkeypatch, DATABASE_URL=PRIMARY_URL,
                   DATABASE_REPLICA_URLS="mysql://ro@db-r1/paperfeed")


def test_the_suite_runs_without_router_or_middleware_when_no_replica_is_set():
    from django.conf import settings

    if settings.DATABASE_REPLICAS:
        pytest.skip("this run has replicas configured")
    assert not getattr(settings, "DATABASE_ROUTERS", [])
    assert "paperfeed.replicas.ReplicaMiddleware" not in settings.MIDDLEWARE


@override_settings(DATABASE_REPLICAS=["replica1"])
def test_reads_outside_a_web_request_go_to_the_primary():
    router = replicas.PrimaryReplicaRouter()
    assert router.db_for_read(None) == "default"  # a worker, a CLI command
    with dbreads.web_request(replicas=False):  # a POST, or a pinned visitor
        assert router.db_for_read(None) == "default"
    with dbreads.web_request(replicas=True) as reads:
        with dbreads.primary():  # e.g. a render that fills the shared page cache
            assert router.db_for_read(None) == "default"
        assert reads.replica is None
        assert router.db_for_write(None) == "default"
        assert reads.wrote
        assert router.db_for_read(None) == "default"  # read-your-writes within the request


def test_migrations_and_relations():
    router = replicas.PrimaryReplicaRouter()
    assert router.allow_migrate("default", "papers") is True
    assert router.allow_migrate("replica1", "papers") is False
    assert router.allow_relation(object(), object()) is True


def _through_middleware(request, status=200):
    seen = {}

    def view(request):
        reads = dbreads.current()
        seen["replicas"] = reads.replicas
        return HttpResponse(status=status)

    response = replicas.ReplicaMiddleware(view)(request)
    return response, seen["replicas"]


@override_settings(REPLICA_PIN_SECONDS=5)
def test_a_post_pins_its_visitor_to_the_primary_for_a_while():
    factory = RequestFactory()
    response, allowed = _through_middleware(factory.get("/papers"))
    assert allowed is True and replicas.PIN_COOKIE not in response.cookies
    response, allowed = _through_middleware(factory.post("/votes/1/"))
    assert allowed is False
    cookie = response.cookies[replicas.PIN_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 6
    request = factory.get("/papers")
    request.COOKIES[replicas.PIN_COOKIE] = cookie.value
    assert replicas.pinned(request)
    assert _through_middleware(request)[1] is False
    # Not signed by us: ignored, not an error.
    request.COOKIES[replicas.PIN_COOKIE] = f"{time.time() + 3600}"
    assert not replicas.pinned(request)
    assert _through_middleware(request)[1] is True


@override_settings(REPLICA_PIN_SECONDS=5)
def test_a_pin_runs_out(time_machine):
    time_machine.move_to("2026-12-01 12:00:00", tick=False)
    response, _ = _through_middleware(RequestFactory().post("/comments/on/1/"))
    request = RequestFactory().get("/papers")
    request.COOKIES[replicas.PIN_COOKIE] = response.cookies[replicas.PIN_COOKIE].value
    time_machine.move_to("2026-12-01 12:00:04", tick=False)
    assert replicas.pinned(request)
    time_machine.move_to("2026-12-01 12:00:06", tick=False)
    assert not replicas.pinned(request)


@override_settings(REPLICA_PIN_SECONDS=0)
def test_a_pin_of_zero_seconds_sets_no_cookie():
    response, _ = _through_middleware(RequestFactory().post("/votes/1/"))
    assert replicas.PIN_COOKIE not in response.cookies


def test_paperfeed_check_warns_when_the_pin_does_not_cover_the_lag_bound():
    from paperfeed.checks import replica_pin_covers_the_lag_bound as check

    if not settings_have_replicas():
        assert check() == []
    with override_settings(DATABASE_REPLICAS=["replica1"], REPLICA_PIN_SECONDS=6,
                           REPLICA_MAX_LAG=5):
        assert check() == []
    with override_settings(DATABASE_REPLICAS=["replica1"], REPLICA_PIN_SECONDS=5,
                           REPLICA_MAX_LAG=5):
        [warning] = check()
        assert warning.id == "paperfeed.W002" and "at least PAPERFEED_REPLICA_MAX_LAG + 1" in warning.hint
    with override_settings(DATABASE_REPLICAS=["replica1"], REPLICA_PIN_SECONDS=60,
                           REPLICA_MAX_LAG=0):
        [warning] = check()
        assert "MAX_LAG=0" in warning.msg


def settings_have_replicas() -> bool:
    from django.conf import settings

    return bool(settings.DATABASE_REPLICAS)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="read replicas are PostgreSQL streaming replicas: this test runs in "
                           "the PostgreSQL pass (DATABASE_URL=postgres://...)")
def test_reads_go_to_a_real_streaming_replica():
    """A primary and its streaming replica of our own (the shared server allows no
    replication connection, and its base backup would copy every database on it), then
    replicated_cases.py in a process whose databases are those two."""
    try:
        clusters = PrimaryWithReplica()
        clusters.__enter__()
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PAPERFEED_", "DATABASE_"))}
            env.update(DATABASE_URL=clusters.primary.url("pf"),
                       DATABASE_REPLICA_URLS=clusters.replica.url("pf"),
                       PAPERFEED_DATA_DIR=data_dir, PAPERFEED_PAGE_CACHE_SECONDS="0",
                       PF_TEST_REPLICA=clusters.replica.describe())
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                 "paperfeed/tests/replicated_cases.py"],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    finally:
        clusters.__exit__()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    summary = re.search(r"(\d+) passed", output)
    assert summary and int(summary[1]) == 10, output[-3000:]
    assert "skipped" not in output and "failed" not in output, output[-3000:]
