"""Where the database reads of the running code may go: the primary, or a read replica.

The router (``paperfeed/replicas.py``) decides for each query; this module only holds
what it decides from, so that any app (the ``papers`` core included) can say "read from
the primary here" without importing the router. Outside a web request there is no
state at all and everything reads the primary: workers and CLI commands read, then
write, and need the newest data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Reads:
    """One web request's reads. ``replicas``: it may read from a replica at all (a GET
    or HEAD of a visitor not pinned to the primary); ``wrote``: something in it was
    routed for writing, so its later reads go to the primary too; ``replica``: the one
    replica it reads from once chosen (two replicas at different replay positions
    could make one page disagree with itself)."""

    replicas: bool
    wrote: bool = False
    replica: str | None = None


_current: ContextVar[Reads | None] = ContextVar("paperfeed_reads", default=None)
_forced: ContextVar[int] = ContextVar("paperfeed_reads_forced", default=0)


def current() -> Reads | None:
    return _current.get()


def forced_to_primary() -> bool:
    return _forced.get() > 0


@contextmanager
def web_request(replicas: bool) -> Iterator[Reads]:
    """Mark the code run inside as one web request's (only the middleware does)."""
    reads = Reads(replicas=replicas)
    token = _current.set(reads)
    try:
        yield reads
    finally:
        _current.reset(token)


@contextmanager
def primary() -> Iterator[None]:
    """Read from the primary inside, whatever the request may otherwise do."""
    token = _forced.set(_forced.get() + 1)
    try:
        yield
    finally:
        _forced.reset(token)
