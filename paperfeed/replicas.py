"""Read replicas: web requests read from PostgreSQL streaming replicas, all else the primary.

``DATABASE_REPLICA_URLS`` adds one database alias per replica (``replica1``, ...) and
installs :class:`PrimaryReplicaRouter` and :class:`ReplicaMiddleware`. The rules:

- Writes and migrations go to the primary (``default``), always.
- Only a web request's reads may go to a replica, and only a GET or HEAD: a POST reads
  what it is about to change. Workers and CLI commands never run inside a web request,
  so they read the primary (:mod:`paperfeed.lib.dbreads` holds the per-request state).
- Inside a request, a read inside a transaction, or after anything was routed for
  writing, goes to the primary.
- Read-your-writes: a request that writes (any POST, or a GET whose code wrote) pins
  its visitor to the primary for ``PAPERFEED_REPLICA_PIN_SECONDS`` with a signed cookie,
  so a member who just voted sees the vote on the next page, however far a replica lags.
- A replica is checked at most once a second per process (:data:`CHECK_SECONDS`):
  reachable, and replaying no more than ``PAPERFEED_REPLICA_MAX_LAG`` seconds behind.
  One that fails is left out, with a logged warning, and tried again after
  :data:`RETRY_SECONDS`; with none left, reads go to the primary. A replica that dies
  in the middle of a GET has the view run again on the primary instead of a 500.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from paperfeed.lib import dbreads

log = logging.getLogger("paperfeed.replicas")

PRIMARY = "default"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PIN_COOKIE = "pf_primary"
_PIN_SALT = "paperfeed.replicas.pin"
CHECK_SECONDS = 1.0  # how long a replica's last check is trusted
RETRY_SECONDS = 5.0  # how long a failed replica is left out before it is tried again

# Replay lag in seconds. A replica that has replayed everything it received is not
# behind, however old its last replayed transaction (an idle primary sends nothing);
# otherwise the age of the last replayed commit bounds how stale its answers are.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""


def aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


@dataclass(frozen=True)
class Status:
    alias: str
    usable: bool
    checked: float  # time.monotonic() of the check
    lag_seconds: float | None = None
    problem: str = ""

    def as_dict(self) -> dict:
        return {"usable": self.usable, "lag_seconds": self.lag_seconds,
                "problem": self.problem or None}


_statuses: dict[str, Status] = {}


def forget_statuses() -> None:
    """Check every replica again at its next use (tests; an operator's shell)."""
    _statuses.clear()


def _close_quietly(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def check(alias: str) -> Status:
    """Ask the replica itself whether it answers and how far behind it is."""
    now = time.monotonic()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError as exc:
        _close_quietly(alias)  # a broken connection must not be reused
        problem = f"unreachable: {type(exc).__name__}: {_one_line(exc)}"[:300]
        log.warning("replica %s is left out, reads go to the primary: %s", alias, problem)
        return Status(alias, False, now, None, problem)
    lag = float(lag or 0)
    bound = settings.REPLICA_MAX_LAG
    if bound and lag > bound:
        problem = f"replay is {lag:.1f}s behind (PAPERFEED_REPLICA_MAX_LAG={bound:g})"
        log.warning("replica %s is left out, reads go to the primary: %s", alias, problem)
        return Status(alias, False, now, lag, problem)
    return Status(alias, True, now, lag)


def status(alias: str) -> Status:
    """The replica's last check if recent enough, else a new one."""
    known = _statuses.get(alias)
    if known is not None:
        trusted = CHECK_SECONDS if known.usable else RETRY_SECONDS
        if time.monotonic() - known.checked < trusted:
            return known
    known = _statuses[alias] = check(alias)
    return known


def mark_down(alias: str, problem: str) -> None:
    _statuses[alias] = Status(alias, False, time.monotonic(), None, problem[:300])


def choose() -> str:
    """A usable replica at random (spreading the load), or the primary if none is."""
    usable = [alias for alias in aliases() if status(alias).usable]
    return random.choice(usable) if usable else PRIMARY


def report() -> dict[str, dict]:
    """Each replica as the router sees it (checked now if its last check is too old),
    for /readyz: probes every few seconds add no load of their own."""
    return {alias: status(alias).as_dict() for alias in aliases()}


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        reads = dbreads.current()
        if (reads is None or not reads.replicas or reads.wrote or dbreads.forced_to_primary()
                # Inside a transaction: it must see its own writes, and hold its locks.
                or connections[PRIMARY].in_atomic_block):
            return PRIMARY
        if reads.replica is None:
            reads.replica = choose()
        return reads.replica

    def db_for_write(self, model, **hints) -> str:
        reads = dbreads.current()
        if reads is not None:
            reads.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # every alias holds the same rows

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == PRIMARY


def pinned(request: HttpRequest) -> bool:
    until = request.get_signed_cookie(PIN_COOKIE, default=None, salt=_PIN_SALT,
                                      max_age=settings.REPLICA_PIN_SECONDS + 1)
    try:
        return until is not None and float(until) > time.time()
    except ValueError:
        return False


def pin(response: HttpResponse) -> None:
    seconds = settings.REPLICA_PIN_SECONDS
    if seconds <= 0:
        return
    response.set_signed_cookie(PIN_COOKIE, f"{time.time() + seconds:.3f}", salt=_PIN_SALT,
                               max_age=int(seconds) + 1, httponly=True, samesite="Lax",
                               secure=settings.SESSION_COOKIE_SECURE)


class ReplicaMiddleware:
    """Lets a GET or HEAD read from a replica, and pins a visitor who wrote to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in SAFE_METHODS
        with dbreads.web_request(replicas=safe and not pinned(request)) as reads:
            response = self.get_response(request)
        if not safe or reads.wrote:
            pin(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        """A replica that broke in the middle of a GET: leave it out, run the view again
        on the primary (a GET changes nothing, so running it twice is harmless)."""
        reads = dbreads.current()
        if (reads is None or reads.replica in (None, PRIMARY) or reads.wrote
                or request.method not in SAFE_METHODS
                or not isinstance(exception, DatabaseError)
                # Django flags a connection whose operation failed: else the error
                # came from the primary, and running the view again would not help.
                or not connections[reads.replica].errors_occurred):
            return None
        alias = reads.replica
        problem = f"failed during a request: {type(exception).__name__}: {_one_line(exception)}"
        log.warning("replica %s is left out, reads go to the primary: %s", alias, problem)
        mark_down(alias, problem)
        _close_quietly(alias)
        match = request.resolver_match
        with dbreads.primary():
            response = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response
