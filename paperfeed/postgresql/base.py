"""Django's PostgreSQL backend, with a persistent connection's health checked without a
round trip.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every
request that touches the database, so that a connection the server dropped (a restart,
a failover, an idle timeout) is replaced instead of failing the request. On a signed-in
page that check was a tenth of the request's time: one of four round trips.

Here a connection is usable when libpq says it is and its socket has nothing to read.
An idle connection has nothing to say; a server that ends it sends an error (``57P01``,
terminating connection) and closes the socket, so the socket reads as ready, and the
connection is replaced as Django would after a failed ``SELECT 1``. pgx's pool checks
idle connections the same way. A peer that vanished without a word (a cut cable) is
not seen; neither would ``SELECT 1`` see it before its own timeout.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper
from psycopg import pq


class DatabaseWrapper(PostgreSQLWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if (pgconn.status != pq.ConnStatus.OK
                or pgconn.transaction_status != pq.TransactionStatus.IDLE):
            # Only ever asked between requests, outside a transaction: anything else
            # is a state to start afresh from.
            return False
        try:
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError, psycopg.Error):  # no socket any more
            return False
