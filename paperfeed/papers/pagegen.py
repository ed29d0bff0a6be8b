"""The generations cached pages are filed under, and the events that bump them.

A cached page (:mod:`paperfeed.papers.pagecache`) is fresh while the generations it was
rendered in are current: the site-wide one and its *scope*'s —

* a paper's own page: that paper's (:func:`paper_scope`), bumped by a vote or comment on
  it and by an ingest that changed it, so no other paper's page is retired;
* the daily, weekly, monthly and trending listings and the API's lists: the *listings*
  generation, which every vote, comment and ingest bumps;
* search results: the *searches* generation, which ingests bump (:func:`searches`);
* a curator's action, a bulk import and anything that names no paper bump the site-wide
  generation (:func:`retire_all`) and so retire every page.

Each bump happens after its transaction commits. A generation is any value not used
before (compared for equality only). Each web process remembers what it read
(:data:`known`) and asks the shared cache again after ``PAPERFEED_PAGE_CACHE_MIN_SECONDS``.

Papers' generations are not asked again one by one: a site's readers spread over
thousands of papers, each read less than once a second per process, and a round trip
per page read cost four times the page's own answer. Each bump of papers' generations
is also written down as a numbered *change* (:func:`_publish`), and a process reads the
count of changes with the site-wide generation; when it moved, it reads the changes
since it last looked and learns their generations, so what it knows of every other
paper stays current. It trusts a paper's generation read that way up to
``KNOWN_PAPER_SECONDS``, then reads it again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.db import DatabaseError, transaction
from django.utils import timezone

from paperfeed.lib import dbreads

log = logging.getLogger("paperfeed.papers")

GENERATION_KEY = "pf:pages:generation"  # site-wide: every page depends on it
LISTINGS = "pf:pages:listings"  # pages that show many papers
SEARCHES = "pf:pages:searches"  # search results: which papers match, not their votes
_PAPER_SCOPE = "pf:pages:paper:"
# An ingest naming more papers than this retires every page instead of each paper's. A
# batch of a day's feed or a snapshot import (2,000 lines) stays under it: retiring every
# page made a whole site render again at once under load. 10,000 new generations are
# one pipelined write of ~1 MB to the shared cache.
PAPER_SCOPES_MAX = 10_000
# Paper scopes each process remembers reading (bounded: forgotten when full).
KNOWN_SCOPES = 8192
# The count of papers' generation changes, and each change by number (_publish).
PAPER_CHANGES = "pf:pages:paper-changes"
_CHANGE = PAPER_CHANGES + ":"
# Changes kept for the processes that have not read them yet; one that looks less often
# (idle), or finds more changes than it reads at once, forgets what it knew of papers.
CHANGE_SECONDS = 120
CHANGES_READ_MAX = 200
# A change naming more papers than this is written as "every paper".
CHANGE_PAPERS_MAX = 1000
# How long a paper's generation, kept current by the changes, is trusted before it is
# read again (a bound on any change missed, e.g. one whose record was evicted).
KNOWN_PAPER_SECONDS = 60


class Known:
    """The generations this process read last, each with when it read it, and the count
    of papers' changes it has followed (:func:`follow`)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        # generation key -> (its value, when it was read): one tuple, so threads see a
        # consistent pair.
        self.values: dict[str, tuple[int, float]] = {}
        self.changes: tuple[int, float] | None = None  # (count followed, when read)

    def learn(self, values: dict[str, int], now: float) -> None:
        if len(self.values) > KNOWN_SCOPES:
            self.forget_papers()
        for key, value in values.items():
            self.values[key] = (value, now)

    def forget_papers(self) -> None:
        self.values = {k: v for k, v in self.values.items() if not k.startswith(_PAPER_SCOPE)}

    def current(self, scope: str, now: float) -> tuple[int, int] | None:
        """The generations a page of ``scope`` depends on, if both were read less than
        PAGE_CACHE_MIN_SECONDS ago, or, a paper's, kept current by the changes read
        then (and read itself less than KNOWN_PAPER_SECONDS ago)."""
        site, scoped = self.values.get(GENERATION_KEY), self.values.get(scope)
        if site is None or scoped is None:
            return None
        fresh = settings.PAGE_CACHE_MIN_SECONDS
        if now - site[1] >= fresh:
            return None
        if now - scoped[1] >= fresh:
            followed = self.changes
            if (not scope.startswith(_PAPER_SCOPE) or followed is None
                    or now - followed[1] >= fresh or now - scoped[1] >= KNOWN_PAPER_SECONDS):
                return None
        return site[0], scoped[0]

    def follow(self, count: int | None, now: float) -> None:
        """Catch up with papers' changes up to ``count`` (read with the site-wide
        generation): learn the generations they set, or forget every paper's if they
        cannot all be read."""
        count = count if isinstance(count, int) else 0  # not there (or not ours): none yet
        followed = self.changes
        if followed is not None and count != followed[0]:
            start = followed[0] + 1
            if not 0 < count - followed[0] <= CHANGES_READ_MAX:  # too many, or restarted
                self.forget_papers()
            else:
                keys = [f"{_CHANGE}{n}" for n in range(start, count + 1)]
                found = cache.get_many(keys)
                changes = [found.get(key) for key in keys]
                if all(isinstance(change, dict) for change in changes):
                    for change in changes:
                        self.learn(change, now)
                else:  # expired, evicted, not written yet or "every paper"
                    self.forget_papers()
        self.changes = (count, now)


known = Known()


def _reset_known(setting: str, **kwargs) -> None:
    if setting in ("CACHES", "PAGE_CACHE_SECONDS", "PAGE_CACHE_MIN_SECONDS",
                   "PAPER_PAGE_CACHE_SECONDS"):
        known.clear()


setting_changed.connect(_reset_known, dispatch_uid="pagegen-known")


def generation() -> int:
    return cache.get(GENERATION_KEY) or 0


def paper_scope(public_id: str) -> str:
    """The generation key of a paper's own page (its arXiv id or slug, as in its URL)."""
    return _PAPER_SCOPE + hashlib.sha256(public_id.encode()).hexdigest()[:32]


def searches(kwargs: dict) -> str:
    """The scope of search results: retired by ingests and by a host's search indexes
    changing (:func:`searches_changed`), not by votes and comments (their counts on a
    results page may lag by PAPERFEED_PAPER_PAGE_CACHE_SECONDS), so a stream of votes
    does not make every query run again."""
    return SEARCHES


def searches_changed() -> None:
    """Retire search results: the search indexes changed (a follower applied new or
    changed papers, or embeddings, from the change log)."""
    _retire([SEARCHES])


def by_paper(kwargs: dict) -> str:
    """The scope of a paper page's route (``papers/<public_id>``)."""
    return paper_scope(kwargs["public_id"])


def ttl(scope: str) -> int:
    """Seconds a page of ``scope`` is kept at most. Papers' pages and search results
    (which votes do not retire) are kept longer only in a cache every process shares: in
    a process's own memory, nothing retires them when another process (the worker's
    ingest, a follower) changes what they show."""
    if scope != SEARCHES and not scope.startswith(_PAPER_SCOPE):
        return settings.PAGE_CACHE_SECONDS
    if isinstance(caches["default"], LocMemCache):
        return min(settings.PAPER_PAGE_CACHE_SECONDS, settings.PAGE_CACHE_SECONDS)
    return settings.PAPER_PAGE_CACHE_SECONDS


def _scope_timeout() -> int:
    # A paper's generation outlives every page filed under an earlier one.
    return 2 * max(settings.PAPER_PAGE_CACHE_SECONDS, settings.PAGE_CACHE_SECONDS) + 60


def _new_value() -> int:
    # Generations are compared for equality only: any value not used before retires the
    # pages of the old one. Random, so processes bumping at once need no coordination.
    return int.from_bytes(os.urandom(7), "big") + 1


def retire_all() -> None:
    """Retire every page (at once: no transaction waits for it)."""
    try:
        gen = cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value retires the old keys
        gen = int(timezone.now().timestamp() * 1000)
        cache.set(GENERATION_KEY, gen, timeout=None)
    known.learn({GENERATION_KEY: gen}, time.time())  # this process shows its change at once


def _retire(scopes: list[str]) -> None:
    """Retire the pages of ``scopes`` (the listings, papers' own pages)."""
    values = {scope: _new_value() for scope in scopes}
    # A paper's generation outlives every page stored before it changed (those expire
    # after ttl()), so an old page can never match it again; LISTINGS is kept.
    kept = {k: values.pop(k) for k in (LISTINGS, SEARCHES) if k in values}
    cache.set_many(values, timeout=_scope_timeout())
    cache.set_many(kept, timeout=None)
    if values:
        _publish(values)
    values.update(kept)
    known.learn(values, time.time())


def _publish(papers: dict[str, int]) -> None:
    """Write down that papers' generations changed (after they were set), numbered, for
    the other processes to follow (:meth:`Known.follow`)."""
    try:
        count = cache.incr(PAPER_CHANGES)
    except ValueError:  # the first change, or the count was evicted: start from a
        # random number, so a process that followed the old count sees a different one
        cache.add(PAPER_CHANGES, _new_value() >> 16, timeout=None)
        count = cache.incr(PAPER_CHANGES)
    # Too many for each process to read: written as None, which the followers read as
    # a gap (they forget every paper's generation and ask again).
    cache.set(f"{_CHANGE}{count}", papers if len(papers) <= CHANGE_PAPERS_MAX else None,
              timeout=CHANGE_SECONDS)


def pages_changed(papers: list[str] | None = None) -> None:
    """Once the current transaction (if any) has committed, retire the listings and the
    pages of ``papers`` (their public ids) or, with no papers named, every page."""
    if papers is None:
        transaction.on_commit(retire_all)
    else:
        scopes = [LISTINGS, *{paper_scope(public_id) for public_id in papers}]
        transaction.on_commit(lambda: _retire(scopes))


def on_papers_changed(sender, paper_ids=None, **kwargs) -> None:
    """An ingest (sent after it committed): the listings and each changed paper's page,
    or every page after a bulk import (``papers_changed_since``) or a large batch."""
    if not paper_ids or len(paper_ids) > PAPER_SCOPES_MAX:
        retire_all()
        return
    from paperfeed.papers.models import Paper

    try:
        with dbreads.primary():  # both ids: a paper known by a slug may just have gained one
            names = list(Paper.objects.filter(pk__in=paper_ids).values_list("arxiv_id", "slug"))
    except DatabaseError as exc:  # e.g. SQLite's lock, from a bulk import's announcing thread
        log.warning("pages of %d changed papers: could not read their ids (%s); "
                    "retiring every page", len(paper_ids), exc)
        retire_all()
        return
    _retire([LISTINGS, SEARCHES, *{paper_scope(name) for pair in names for name in pair if name}])


def ensure(scope: str) -> int:
    """``scope``'s generation, given one of its own first if it has none (never bumped,
    expired or evicted), so no page is ever filed under "none", which an evicted
    generation would read as again."""
    paper = scope.startswith(_PAPER_SCOPE)
    value = _new_value()
    if cache.add(scope, value, timeout=_scope_timeout() if paper else None) and paper:
        _publish({scope: value})  # a process may still know the one that expired
    return cache.get(scope, 0)
