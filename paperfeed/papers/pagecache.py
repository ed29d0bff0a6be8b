"""The hot pages (daily, weekly, monthly, trending, a paper) rendered once, served many times.

A page is rendered for an anonymous reader and kept in Django's cache (Redis when
``PAPERFEED_CACHE_URL`` names one, so every web process shares it; else each process's
memory), under a key holding a *generation* number. Whatever changes what pages show —
a vote, a comment, a curator's action, an ingest — bumps the generation after its
transaction commits (:func:`pages_changed`), so the next request renders afresh; entries
also expire after ``PAPERFEED_PAGE_CACHE_SECONDS``, the bound on staleness for changes
no event announces (a local-memory cache in another process, the clock moving on).

The only per-visitor part of an anonymous page is its CSRF token: it is stored as a
placeholder and filled in on the way out. Signed-in members get the same cached listing
plus their own state, spliced in cheaply (:mod:`paperfeed.papers.pagestate`).
Every page carries an ``ETag`` (and ``Last-Modified``); a matching conditional GET
gets a 304 without the body being sent.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from paperfeed.lib import dbreads

GENERATION_KEY = "pf:pages:generation"
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')
CSRF_MARK = "@@pf-csrf@@"

# Counted per process (tests read them); paperfeed.ops exports them as metrics.
stats = {"hits": 0, "misses": 0, "bypassed": 0}
OUTCOME_LISTENERS: list = []


def _count(outcome: str) -> None:
    stats[outcome] += 1
    for listener in OUTCOME_LISTENERS:
        listener(outcome)


@dataclass(frozen=True)
class Entry:
    content: str
    content_type: str
    etag: str
    last_modified: float  # when it was rendered
    generation: int = 0


def generation() -> int:
    return cache.get(GENERATION_KEY) or 0


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value retires the old keys
        cache.set(GENERATION_KEY, int(timezone.now().timestamp() * 1000), timeout=None)


def pages_changed() -> None:
    """Retire every cached page, once the current transaction (if any) has committed."""
    transaction.on_commit(_bump)


def on_papers_changed(sender, **kwargs) -> None:
    _bump()


def _key(request: HttpRequest) -> str:
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:40]
    return f"pf:page:{path}"


def _fresh(entry: Entry | None, gen: int) -> bool:
    """Rendered in the current generation, or so recently that re-rendering would not be
    worth it: under a stream of votes a page is rendered at most once per
    PAPERFEED_PAGE_CACHE_MIN_SECONDS, and a vote shows within that time."""
    if entry is None:
        return False
    age = time.time() - entry.last_modified
    return entry.generation == gen or 0 <= age < settings.PAGE_CACHE_MIN_SECONDS


def _cacheable(request: HttpRequest) -> bool:
    return (request.method in ("GET", "HEAD") and settings.PAGE_CACHE_SECONDS > 0
            and "messages" not in request.COOKIES)  # a flash message is for one visitor


def _render(view, request, *args, **kwargs) -> HttpResponse:
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


def _entry_from(response: HttpResponse, gen: int) -> Entry | None:
    if (response.status_code != 200 or response.streaming
            or settings.SESSION_COOKIE_NAME in response.cookies):
        return None
    content = _CSRF_INPUT.sub(rf"\g<1>{CSRF_MARK}\g<2>", response.content.decode())
    etag = '"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'
    return Entry(content, response["Content-Type"], etag, time.time(), gen)


def _not_modified(request: HttpRequest, entry: Entry) -> bool:
    wanted = request.headers.get("If-None-Match")
    if wanted:
        return entry.etag in parse_etags(wanted) or wanted.strip() == "*"
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    return since is not None and int(entry.last_modified) <= since


def _respond(request: HttpRequest, entry: Entry, content: str | None = None) -> HttpResponse:
    headers = {"ETag": entry.etag, "Last-Modified": http_date(entry.last_modified),
               # Browsers and proxies must ask again (cheaply, with the ETag) every time.
               "Cache-Control": "no-cache"}
    if _not_modified(request, entry):
        response = HttpResponseNotModified(headers=headers)
    else:
        body = (entry.content if content is None else content).replace(CSRF_MARK, get_token(request))
        response = HttpResponse(body, content_type=entry.content_type, headers=headers)
    response["Vary"] = "Cookie"
    return response


# Functions (request, html) -> html that add a member's own state to a cached page;
# other apps register theirs (community: vote marks), papers knows none of them.
PERSONALISERS: list[Callable[[HttpRequest, str], str]] = []


def splice(html: str, region: str, replacement: str) -> str:
    """Replace what stands between ``<!--pf:region-->`` and ``<!--/pf:region-->``."""
    start, end = f"<!--pf:{region}-->", f"<!--/pf:{region}-->"
    before, found, rest = html.partition(start)
    if not found:
        return html
    _, found, after = rest.partition(end)
    return before + start + replacement + end + after if found else html


def _personalise(request: HttpRequest, html: str) -> str:
    from django.template.loader import render_to_string

    html = splice(html, "member-nav", render_to_string("partials/nav_member.html", request=request))
    for personalise in PERSONALISERS:
        html = personalise(request, html)
    return html


def cached_page(members: bool = False):
    """Serve a view's page from the cache for anonymous readers (``members``: for members
    too, with their own state spliced in by :data:`PERSONALISERS`)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not _cacheable(request):
                _count("bypassed")
                return view(request, *args, **kwargs)
            member = request.user.is_authenticated
            if member and not members:
                _count("bypassed")
                return view(request, *args, **kwargs)
            key = _key(request)
            # One round trip to a Redis cache for both.
            found = cache.get_many([GENERATION_KEY, key])
            gen, entry = found.get(GENERATION_KEY) or 0, found.get(key)
            if not _fresh(entry, gen):
                _count("misses")
                # Read from the primary, never a read replica (paperfeed/replicas.py): a
                # vote bumps the generation once it commits on the primary, and a replica
                # that has not replayed it yet would file the old page under the new
                # generation, stale until the next change. Misses are rare (at most one
                # per page per PAPERFEED_PAGE_CACHE_MIN_SECONDS under a stream of votes).
                if member:
                    # Render as the anonymous reader would see it, then personalise.
                    from django.contrib.auth.models import AnonymousUser

                    real_user, request.user = request.user, AnonymousUser()
                    try:
                        with dbreads.primary():
                            response = _render(view, request, *args, **kwargs)
                    finally:
                        request.user = real_user
                else:
                    with dbreads.primary():
                        response = _render(view, request, *args, **kwargs)
                entry = _entry_from(response, gen)
                if entry is None:
                    return response
                cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
            else:
                _count("hits")
            if member:
                html = _personalise(request, entry.content)
                etag = '"' + hashlib.sha256(html.encode()).hexdigest()[:32] + '"'
                return _respond(request, Entry(html, entry.content_type, etag,
                                               entry.last_modified, gen), html)
            return _respond(request, entry)

        return wrapper

    return decorate
