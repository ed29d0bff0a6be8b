"""Read replicas against a real streaming replica: run by test_replicas.py, not on its own.

``test_replicas.test_reads_go_to_a_real_streaming_replica`` starts a PostgreSQL primary
and a streaming replica of it, then runs this file in a pytest process of its own whose
``DATABASE_URL`` is that primary and ``DATABASE_REPLICA_URLS`` that replica (so
``replica1`` is installed, with the router and the middleware, as in production). Its
name does not start with ``test_``: collected only when named on the command line.

Every test commits for real (``transaction=True``): a replica cannot see the rows of a
test transaction that is never committed. Replay is paused on the replica
(``pg_wal_replay_pause()``) to make it lag on purpose.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import Counter
from contextlib import ExitStack, contextmanager

import pytest
from django.db import connections, router
from django.test import Client, override_settings
from django.urls import reverse

from paperfeed import replicas
from paperfeed.community.tests import factories
from paperfeed.papers.models import Paper
from paperfeed.tests.pgcluster import Cluster

pytestmark = [
    pytest.mark.skipif("PF_TEST_REPLICA" not in os.environ,
                       reason="run by test_replicas.py against the replica it starts"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica1"]),
]
DAY = "/papers/date/2026-11-20"


def _one(alias: str, sql: str):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def caught_up(timeout: float = 30) -> None:
    """Until the replica has replayed everything committed on the primary so far."""
    target = _one("default", "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while _one("replica1", f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())") > 0:
        assert time.monotonic() < deadline, f"the replica did not replay up to {target}"
        time.sleep(0.05)


@contextmanager
def replay_paused():
    _one("replica1", "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        _one("replica1", "SELECT pg_wal_replay_resume()")


@contextmanager
def queries_by_alias():
    """How many statements each alias ran (Django's own hook on each connection)."""
    counts: Counter[str] = Counter()

    def counter(alias):
        def wrapper(execute, sql, params, many, context):
            counts[alias] += 1
            return execute(sql, params, many, context)
        return wrapper

    with ExitStack() as stack:
        for alias in ("default", "replica1"):
            stack.enter_context(connections[alias].execute_wrapper(counter(alias)))
        yield counts


def upvotes_shown(response) -> int:
    assert response.status_code == 200, response.status_code
    return int(re.search(r'<span class="count">(\d+)</span>', response.content.decode())[1])


def voted_shown(response) -> bool:
    return 'aria-pressed="true"' in response.content.decode()


@pytest.fixture(autouse=True)
def fresh_checks():
    replicas.forget_statuses()
    yield
    replicas.forget_statuses()


@pytest.fixture
def paper():
    made = factories.paper("Streaming replicas, explained", upvotes_imported=10)
    caught_up()
    return made


@pytest.fixture
def member_client():
    client = Client()
    client.force_login(factories.member("reader"))
    caught_up()  # the session row too: an unpinned member's session is read on the replica
    return client


def vote(client, paper) -> None:
    response = client.post(reverse("community:vote", args=[paper.pk]), {"vote": "1"})
    assert response.status_code == 302
    assert replicas.PIN_COOKIE in response.cookies


def test_the_replica_alias_is_a_real_standby_on_its_own_port():
    assert _one("replica1", "SELECT pg_is_in_recovery()") is True
    assert _one("default", "SELECT pg_is_in_recovery()") is False
    assert (_one("replica1", "SELECT inet_server_port()")
            == int(connections["replica1"].settings_dict["PORT"])
            != _one("default", "SELECT inet_server_port()"))


def test_a_get_reads_the_replica_and_a_vote_writes_the_primary(paper, member_client):
    with queries_by_alias() as counts:
        assert upvotes_shown(Client().get(paper.get_absolute_url())) == 10
    assert counts["replica1"] > 0 and counts["default"] == 0, counts
    with queries_by_alias() as counts:
        vote(member_client, paper)
    assert counts["default"] > 0 and counts["replica1"] == 0, counts
    assert Paper.objects.with_upvotes().get(pk=paper.pk).total_upvotes == 11


def test_workers_and_commands_read_the_primary(paper):
    with replay_paused():
        Paper.objects.filter(pk=paper.pk).update(title="Renamed on the primary")
        with queries_by_alias() as counts:
            assert Paper.objects.get(pk=paper.pk).title == "Renamed on the primary"
        assert counts == {"default": 1}


@override_settings(REPLICA_PIN_SECONDS=3)
def test_a_member_sees_their_own_vote_while_the_replica_lags(paper, member_client):
    with replay_paused():
        vote(member_client, paper)
        with queries_by_alias() as counts:
            page = member_client.get(paper.get_absolute_url())
        assert voted_shown(page) and upvotes_shown(page) == 11
        assert counts["replica1"] == 0, "a pinned member must read the primary"
        # Anyone else reads the paused replica: stale, within the lag bound.
        assert upvotes_shown(Client().get(paper.get_absolute_url())) == 10
        time.sleep(3.1)  # the pin runs out: the member reads the replica again
        page = member_client.get(paper.get_absolute_url())
        assert not voted_shown(page) and upvotes_shown(page) == 10
    caught_up()
    assert upvotes_shown(Client().get(paper.get_absolute_url())) == 11


def test_a_comment_pins_too_and_a_get_does_not(paper, member_client):
    response = member_client.get(paper.get_absolute_url())
    assert replicas.PIN_COOKIE not in response.cookies
    with replay_paused():
        response = member_client.post(reverse("community:comment_new", args=[paper.pk]),
                                      {"body": "Read your own writes."})
        assert response.status_code == 302 and replicas.PIN_COOKIE in response.cookies
        assert "Read your own writes." in member_client.get(paper.get_absolute_url()).content.decode()
        assert "Read your own writes." not in Client().get(paper.get_absolute_url()).content.decode()


# MIN_SECONDS=0: a page is current only in its own generation (not for a second more).
@override_settings(PAGE_CACHE_SECONDS=60, PAGE_CACHE_MIN_SECONDS=0)
def test_a_cached_page_is_filled_from_the_primary(paper, member_client):
    from django.core.cache import cache

    from paperfeed.papers import pagecache

    cache.clear()
    anonymous = Client()
    assert str(paper.title) in anonymous.get(DAY).content.decode()
    with replay_paused():
        vote(member_client, paper)  # commits on the primary, then retires cached pages
        misses = pagecache.stats["misses"]
        with queries_by_alias() as counts:
            page = anonymous.get(DAY).content.decode()
        assert pagecache.stats["misses"] == misses + 1, "the vote did not retire the page"
        # The replica still says 10; the page filed under the new generation must not.
        assert re.search(r'class="count">11<', page), "a stale page was rendered"
        assert counts["replica1"] == 0 and counts["default"] > 0, counts
        hits = pagecache.stats["hits"]
        assert re.search(r'class="count">11<', anonymous.get(DAY).content.decode())
        assert pagecache.stats["hits"] == hits + 1


@override_settings(REPLICA_MAX_LAG=0.5)
def test_a_replica_too_far_behind_is_left_out(paper, caplog):
    with replay_paused():
        Paper.objects.filter(pk=paper.pk).update(title="Newer than the replica")
        time.sleep(1.2)
        with caplog.at_level(logging.WARNING, logger="paperfeed.replicas"):
            page = Client().get(paper.get_absolute_url()).content.decode()
        assert "Newer than the replica" in page
        assert "replay is" in caplog.text and "behind" in caplog.text
        ready = Client().get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["replicas"]["replica1"]["usable"] is False
        assert ready.json()["replicas"]["replica1"]["lag_seconds"] > 0.5


def test_a_replica_within_the_bound_is_reported_ready():
    ready = Client().get("/readyz").json()
    assert ready["ready"] is True
    assert ready["replicas"]["replica1"]["usable"] is True
    assert 0 <= ready["replicas"]["replica1"]["lag_seconds"] < 5
    assert ready["replicas"]["replica1"]["problem"] is None
    metrics = Client().get("/metrics").content.decode()
    assert 'paperfeed_db_replica_usable{replica="replica1"} 1.0' in metrics
    assert re.search(r'paperfeed_db_replica_lag_seconds\{replica="replica1"\} \d', metrics)


def test_migrations_are_never_routed_to_the_replica():
    assert router.allow_migrate("default", "papers", model_name="paper") is True
    assert router.allow_migrate("replica1", "papers", model_name="paper") is False


def test_a_replica_that_stops_is_left_out_without_a_500(paper, caplog, monkeypatch):
    cluster = Cluster.described(os.environ["PF_TEST_REPLICA"])
    # The replica's last check stays trusted: the next GET picks it, and it fails
    # in the middle of the request.
    monkeypatch.setattr(replicas, "CHECK_SECONDS", 600)
    assert upvotes_shown(Client().get(paper.get_absolute_url())) == 10
    cluster.stop("immediate")
    try:
        with caplog.at_level(logging.WARNING, logger="paperfeed.replicas"):
            assert upvotes_shown(Client().get(paper.get_absolute_url())) == 10
        assert "replica1 is left out" in caplog.text and "failed during a request" in caplog.text
        replicas.forget_statuses()  # now the check itself finds it down
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="paperfeed.replicas"):
            assert upvotes_shown(Client().get(paper.get_absolute_url())) == 10
        assert "unreachable" in caplog.text
        ready = Client().get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        assert ready.json()["replicas"]["replica1"]["usable"] is False
        assert "unreachable" in ready.json()["replicas"]["replica1"]["problem"]
    finally:
        cluster.start()
