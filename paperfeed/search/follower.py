"""The follower: applies the core's change log to this host's search indexes.

Each host keeps its own index folder. Its follower reads the change log
(``papers.changelog``) from the position it remembers in ``<index folder>/follower.json``
and, per group of entries, re-reads the papers they name and rewrites them in the keyword
and vector indexes (``indexing.index_papers``); only after both indexes have committed
does it write the new position (atomically: a temporary file, fsync, rename). A kill at
any point therefore replays at most the group in hand, and replaying is harmless because
applying reads the papers' current rows.

An empty folder (a new host), or a position the log has been pruned past, is
bootstrapped: the current log position is noted first, then both indexes are rebuilt
from the database (papers and stored embeddings; no model runs), then following goes on
from the noted position. Followers report their position to ``SearchHost``; the log is
pruned below the slowest host that reported within ``PAPERFEED_SEARCH_HOST_TIMEOUT``.

One follower per folder at a time: an ``flock`` on ``follower.lock``. The long-running
``paperfeed index follow --loop`` waits for notifications (PostgreSQL ``LISTEN``) or
polls; processes that write papers or embeddings also catch up right after their own
commits when the lock is free (``catch_up_here(wait=False)``), so one host without a
follow loop stays current too.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

from paperfeed.conf import value
from paperfeed.papers import changelog, pagegen
from paperfeed.papers.changelog import Position
from paperfeed.search.engine import Engine
from paperfeed.search.indexing import index_papers, rebuild
from paperfeed.search.models import SearchHost

log = logging.getLogger("paperfeed.search")

STATE_FILE = "follower.json"
ENTRIES_PER_READ = 500
PRUNE_EVERY = 60.0  # seconds, per process
REPORT_IDLE_EVERY = 30.0


@dataclass
class State:
    host_id: str
    position: Position


class Follower:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.directory = engine.directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.state_path = self.directory / STATE_FILE
        self._last_prune = 0.0
        self._last_report = 0.0
        self.last_bootstrap: tuple[int, int] | None = None

    # -- the position on disk -------------------------------------------------------

    def state(self) -> State | None:
        try:
            data = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return None
        except (ValueError, OSError) as exc:
            log.warning("unreadable follower state %s (%s): bootstrapping again",
                        self.state_path, exc)
            return None
        return State(data["host_id"], Position(*data["position"]))

    def _save(self, state: State) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        with open(tmp, "w") as out:
            json.dump({"host_id": state.host_id, "position": list(state.position)}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.state_path)
        _fsync_dir(self.directory)

    @contextmanager
    def _locked(self, wait: bool) -> Iterator[bool]:
        with open(self.directory / "follower.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True

    # -- following ----------------------------------------------------------------------

    def catch_up(self, *, wait: bool = True,
                 progress: Callable[[str, int, int], None] | None = None,
                 stop: Callable[[], bool] = lambda: False, rebuild: bool = False) -> int | None:
        """Apply every readable entry; the papers applied, or None if another holds the lock.

        ``rebuild``: bootstrap from the database first even if the position is fine.
        """
        with self._locked(wait) as mine:
            if not mine:
                return None
            state = self.state()
            if rebuild or state is None or state.position < changelog.horizon():
                state = self.bootstrap(state, progress=progress)
            applied = 0
            while not stop() and (entries := changelog.read_after(state.position,
                                                                  ENTRIES_PER_READ)):
                for group in _groups(entries):
                    applied += index_papers(self.engine, sorted(
                        {pk for entry in group for pk in entry.paper_ids}))
                    state.position = group[-1].position
                    self._save(state)  # after the indexes committed: a kill replays
                    if stop():
                        break
            self._report(state, force=applied > 0)
            self._prune()
            if applied:
                # Results rendered from the indexes before this are stale: on a host whose
                # follower lags its ingests, or once the embedding worker adds vectors.
                pagegen.searches_changed()
            return applied

    def bootstrap(self, old: State | None, *,
                  progress: Callable[[str, int, int], None] | None = None) -> State:
        state = State(old.host_id if old else str(uuid.uuid4()), changelog.current_position())
        if old is not None and old.position < changelog.horizon():
            log.warning("follower at %s is behind the pruned change log: rebuilding",
                        old.position)
        # Reported before the long rebuild, so nobody prunes past us meanwhile.
        self._report(state, force=True, bootstrapped=True)
        started = time.monotonic()
        keywords, vectors = rebuild(self.engine, progress=progress)
        self.last_bootstrap = (keywords, vectors)
        self._save(state)
        log.info("bootstrapped %s from the database: %d papers, %d vectors in %.1f s",
                 self.directory, keywords, vectors, time.monotonic() - started)
        return state

    def _report(self, state: State, *, force: bool = False, bootstrapped: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_IDLE_EVERY:
            return
        self._last_report = now
        fields = {"name": host_name(self.directory), "txid": state.position.txid,
                  "change_id": state.position.change_id, "seen_at": timezone.now()}
        if bootstrapped:
            fields["bootstrapped_at"] = fields["seen_at"]
        SearchHost.objects.update_or_create(host_id=state.host_id, defaults=fields)

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        prune_log()

    # -- the loop ------------------------------------------------------------------------

    def follow(self, stop: Callable[[], bool], *, interval: float | None = None,
               after_round: Callable[[], None] = lambda: None) -> None:
        """Catch up, then wait for a notification or ``interval`` seconds; until ``stop()``."""
        interval = value("PAPERFEED_SEARCH_FOLLOW_INTERVAL") if interval is None else interval
        with _listener() as wait_for_change:
            while not stop():
                try:
                    self.catch_up(stop=stop)
                except Exception:
                    log.exception("the follower could not apply the change log; retrying")
                finally:
                    from django.db import close_old_connections

                    close_old_connections()
                after_round()
                wait_for_change(interval, stop)


def _groups(entries: list[changelog.Entry]) -> Iterator[list[changelog.Entry]]:
    """Entries in groups of about PAPERFEED_SEARCH_FOLLOW_BATCH papers (whole entries)."""
    most = max(1, value("PAPERFEED_SEARCH_FOLLOW_BATCH"))
    group: list[changelog.Entry] = []
    size = 0
    for entry in entries:
        group.append(entry)
        size += len(entry.paper_ids)
        if size >= most:
            yield group
            group, size = [], 0
    if group:
        yield group


@contextmanager
def _listener() -> Iterator[Callable[[float, Callable[[], bool]], None]]:
    """A function that waits up to N seconds for a change notification (or just sleeps)."""
    if connection.vendor != "postgresql":
        yield _sleep
        return
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    try:
        listening = psycopg.connect(**params, autocommit=True)
        listening.execute(f"LISTEN {changelog.CHANNEL}")
    except Exception:
        log.exception("cannot LISTEN for changes; polling instead")
        yield _sleep
        return

    def wait(seconds: float, stop: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        while not stop() and (left := deadline - time.monotonic()) > 0:
            # Short slices, so a stop request is seen within a fraction of a second.
            for _ in listening.notifies(timeout=min(left, 0.5), stop_after=1):
                return

    try:
        yield wait
    finally:
        listening.close()


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not stop() and time.monotonic() < deadline:
        time.sleep(min(0.1, seconds))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def host_name(directory: Path) -> str:
    return value("PAPERFEED_SEARCH_HOST_NAME") or f"{socket.gethostname()}:{directory}"


def prune_log() -> int:
    """Drop log entries every host that reported recently has applied; returns rows deleted."""
    cutoff = timezone.now() - dt.timedelta(seconds=value("PAPERFEED_SEARCH_HOST_TIMEOUT"))
    positions = [Position(t, c) for t, c in SearchHost.objects.filter(seen_at__gte=cutoff)
                 .values_list("txid", "change_id")]
    if not positions:
        return 0
    slowest = min(positions)
    if slowest <= changelog.horizon():
        return 0
    return changelog.prune(slowest)


# -- what other parts call ----------------------------------------------------------------

_followers: dict[Path, Follower] = {}


def follower_for(engine: Engine) -> Follower:
    if engine.directory not in _followers:
        _followers.clear()
        _followers[engine.directory] = Follower(engine)
    return _followers[engine.directory]


def catch_up_here(engine: Engine | None = None, *, wait: bool = False) -> int | None:
    """Apply the log to this process's index folder now, unless a follower is at it."""
    if engine is None:
        from paperfeed.search.service import get_engine

        engine = get_engine()
    try:
        return follower_for(engine).catch_up(wait=wait)
    except Exception:
        # The change is committed and logged; the follow loop (or the next catch-up)
        # applies it. Failing the writer now would lose nothing but help nobody.
        log.exception("could not apply the change log to %s now", engine.directory)
        return None


@dataclass
class HostLag:
    name: str
    host_id: str
    position: Position
    behind: int  # entries not applied yet
    lag_seconds: float  # age of the oldest entry not applied yet (0 when none)
    seen_at: dt.datetime | None
    bootstrapped_at: dt.datetime | None


def hosts_lag() -> list[HostLag]:
    """Every host that ever reported, with its lag measured now."""
    now = timezone.now()
    found = []
    for host in SearchHost.objects.order_by("name"):
        position = Position(host.txid, host.change_id)
        behind, oldest = changelog.backlog(position)
        found.append(HostLag(host.name, host.host_id, position, behind,
                             (now - oldest).total_seconds() if oldest else 0.0,
                             host.seen_at, host.bootstrapped_at))
    return found


def follower_lag() -> float | None:
    """This host's lag in seconds (for metrics): the age of the oldest entry it has not
    applied, 0 when it is current, None before its first bootstrap."""
    from paperfeed.search.service import get_engine

    state = follower_for(get_engine()).state()
    if state is None:
        return None
    _, oldest = changelog.backlog(state.position)
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0
