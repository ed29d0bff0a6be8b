"""paperfeed/postgresql: a persistent connection's health checked without a round trip,
against the real PostgreSQL (the PostgreSQL pass of the suite)."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),  # between requests there is no transaction
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


def test_a_database_url_takes_our_backend(monkeypatch):
    from paperfeed import settings as project_settings

    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/paperfeed")
    monkeypatch.delenv("DATABASE_REPLICA_URLS", raising=False)
    assert project_settings._databases()["default"]["ENGINE"] == "paperfeed.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_healthy_idle_connection_is_usable_without_a_query(monkeypatch):
    connection.ensure_connection()
    sent = []
    monkeypatch.setattr(type(connection.connection), "execute",
                        lambda self, *a, **k: sent.append(a))
    monkeypatch.setattr(type(connection.connection), "cursor",
                        lambda self, *a, **k: sent.append(a))
    assert connection.is_usable() and sent == []


def _wait_readable(sock: int) -> None:
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100):
        assert time.monotonic() < deadline, "the server never ended the connection"


def test_a_connection_the_server_ended_is_replaced_before_the_next_query():
    connection.ensure_connection()
    pid, sock = connection.connection.info.backend_pid, connection.connection.pgconn.socket
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # as a restart or an idle timeout would
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    _wait_readable(sock)
    assert not connection.is_usable()
    connection.health_check_done = False  # as at the start of each request
    with connection.cursor() as cursor:  # no error: a new connection
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_left_in_a_transaction_is_not_reused():
    connection.ensure_connection()
    connection.connection.execute("BEGIN")
    try:
        assert not connection.is_usable()
    finally:
        connection.connection.execute("ROLLBACK")
    assert connection.is_usable()
