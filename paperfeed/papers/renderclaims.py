"""Who renders a cached page again (:mod:`paperfeed.papers.pagecache`), so that one
request does it while the others are answered.

* A stale page (its generation bumped, or just past its ttl) is rendered again by the
  request that *claims* it: an atomic ``add`` in the shared cache, so one request per
  site, held at most ``RENDER_CLAIM_SECONDS`` (a renderer that dies frees it then).
  Every other request for it meanwhile gets the stale copy. One process renders at most
  ``RENDERS_AT_ONCE`` stale pages at a time: after a change that retires every page the
  site re-renders a few at a time instead of answering nobody while every thread renders.
* A page with no copy at all is rendered once per process: its other readers in the
  process wait for that render (:func:`join_render`) instead of repeating it.

A stampede of identical renders stalled a whole server when a page at 1M papers expired
under 1,400 requests/s (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import os
import threading

from django.core.cache import cache

RENDER_CLAIM_SECONDS = 15
RENDERS_AT_ONCE = 4

_lock = threading.Lock()
_claimed_here: set[str] = set()
_first_renders: dict[str, threading.Event] = {}


def _claim_key(key: str) -> str:
    return "pf:page-claim:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def claim(key: str) -> bool:
    """Whether this request may render the page under ``key`` again: no other request of
    this process or (through the shared cache) of another holds it, and this process is
    rendering fewer than RENDERS_AT_ONCE stale pages. Release with :func:`release`; a
    claim lapses by itself after RENDER_CLAIM_SECONDS."""
    with _lock:
        if key in _claimed_here or len(_claimed_here) >= RENDERS_AT_ONCE:
            return False
        _claimed_here.add(key)
    if cache.add(_claim_key(key), os.getpid(), timeout=RENDER_CLAIM_SECONDS):
        return True
    with _lock:
        _claimed_here.discard(key)
    return False


def release(key: str) -> None:
    cache.delete(_claim_key(key))
    with _lock:
        _claimed_here.discard(key)


def rendering(key: str) -> bool:
    """Whether the stale copy of ``key`` should be served: some request (here or in
    another process) is rendering it again, or this process renders all it may at once."""
    return (key in _claimed_here or len(_claimed_here) >= RENDERS_AT_ONCE
            or cache.get(_claim_key(key)) is not None)


def join_render(key: str) -> threading.Event | None:
    """The first render of ``key`` under way in this process, to wait for; None when
    there is none, after registering this request's own (end it with :func:`end_render`)."""
    with _lock:
        under_way = _first_renders.get(key)
        if under_way is None:
            _first_renders[key] = threading.Event()
        return under_way


def end_render(key: str) -> None:
    with _lock:
        done = _first_renders.pop(key, None)
    if done is not None:
        done.set()
