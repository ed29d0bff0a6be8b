"""The hot pages (daily, weekly, monthly, trending, a paper) rendered once, served many times.

A page is rendered for an anonymous reader and kept in Django's cache (Redis when
``PAPERFEED_CACHE_URL`` names one, so every web process shares it; else each process's
memory), under its address and with the *generations* it was rendered in: the site-wide
one and its scope's (:mod:`paperfeed.papers.pagegen`: a paper's page depends on that
paper's, the listings on the listings', search results on the searches'). Whatever
changes what pages show bumps the generations it affects after its transaction commits
(:func:`pagegen.pages_changed`), so the next request renders afresh. Entries also expire
after ``PAPERFEED_PAGE_CACHE_SECONDS`` (listings) or ``PAPERFEED_PAPER_PAGE_CACHE_SECONDS``
(a paper's page), the bound on staleness for changes no event announces (the clock moving
on; on a paper's page, its related papers, thumbnail and citations).

Each web process also keeps the pages it served last in its own memory (:class:`_Local`,
at most ``PAPERFEED_PAGE_CACHE_LOCAL_MB``) and asks the shared cache for the generations at
most once per ``PAPERFEED_PAGE_CACHE_MIN_SECONDS`` (papers' own through the changes
:mod:`~paperfeed.papers.pagegen` writes down), so a hit is a dictionary lookup, not a
Redis round trip with an 80 KB page. The staleness bound stays ``PAPERFEED_PAGE_CACHE_MIN_SECONDS``
(default 1 s) plus one render with a shared cache: a change bumps the generation at
commit; within that time every process has read the new number, and by then every page
of the old generation (timed from the start of its render, which read the old number) is
older than the grace period of :func:`_fresh`, so the next request renders it again. The
process that made the change learns the new number at once.

The only per-visitor part of an anonymous page is its CSRF token: it is stored as a
placeholder and filled in on the way out. Anonymous readers are served by
:mod:`paperfeed.papers.fastpath` before sessions, authentication and the rest of the
middleware; signed-in members get the same cached listing plus their own state, spliced
in cheaply (:mod:`paperfeed.papers.memberpages`). Pages are kept as encoded bytes with their ETag
(computed once, when stored); a matching conditional GET gets a 304 without the body.

A page that has gone stale (its generation bumped, or past its ttl) is rendered again by
one request per site at a time, and every other request for it meanwhile is answered
with the stale copy (:mod:`paperfeed.papers.renderclaims`); a page with no copy at all,
once per process. So a change shows once that one render is done: the bound above,
"plus one render", holds; a copy is kept in the shared cache ``RENDER_CLAIM_SECONDS``
past its ttl for this, never served once nobody renders it.

Each page is also kept gzip-compressed, once, when stored, for readers whose
``Accept-Encoding`` takes gzip (as whitenoise serves the static files), with each
visitor's CSRF tokens put in per request without compressing anything again
(:mod:`paperfeed.lib.gzipsplice`). The compressed copy has its own ETag (the page's
with ``-gz``, as Apache marks it); a conditional GET with
either answers 304. Members' personalised pages go out uncompressed.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import CSRF_TOKEN_LENGTH
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from paperfeed.lib import dbreads, gzipsplice
from paperfeed.lib.csrftoken import get_token
from paperfeed.papers import memberpages, pagegen, renderclaims
from paperfeed.papers.pagegen import GENERATION_KEY, LISTINGS, PAPER_CHANGES, ttl
from paperfeed.papers.renderclaims import RENDER_CLAIM_SECONDS

_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')
CSRF_MARK = memberpages.CSRF_MARK
_CSRF_MARK_BYTES = CSRF_MARK.encode()
# zlib's default: within a few per cent of level 9's size at a third of its time, and
# paid once per page per generation, not per request.
GZIP_LEVEL = 6

# Counted per process (tests read them); paperfeed.ops exports them as metrics. "stale":
# answered with the previous copy while another request rendered the page again.
stats = {"hits": 0, "misses": 0, "bypassed": 0, "stale": 0}
OUTCOME_LISTENERS: list = []


def _count(outcome: str) -> None:
    stats[outcome] += 1
    for listener in OUTCOME_LISTENERS:
        listener(outcome)


@dataclass(frozen=True)
class Entry:
    body: bytes  # UTF-8, each CSRF token replaced by CSRF_MARK
    content_type: str
    etag: str  # of body, computed when stored
    last_modified: float  # when its render began (before it read the generations)
    generation: tuple[int, int] = (0, 0)  # (site-wide, its scope's) when rendered
    headers: tuple[tuple[str, str], ...] = ()  # kept with the body (cached_response)
    gzip_parts: tuple[bytes, ...] = ()  # body deflated, cut at CSRF_MARK (gzip_copy)
    gzip_crc: tuple[int, ...] = ()  # the CRC-32 with NUL placeholders, then its columns (gzipsplice)


class _Local:
    """This process's most recently served entries (each with its body split at the
    CSRF placeholders, ready to join), at most PAPERFEED_PAGE_CACHE_LOCAL_MB of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.entries: OrderedDict[str, tuple[Entry, list[bytes]]] = OrderedDict()
        self.size = 0
        pagegen.known.clear()

    def get(self, key: str) -> tuple[Entry, list[bytes]] | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: str, entry: Entry) -> tuple[Entry, list[bytes]]:
        found = (entry, _split(entry.body))
        budget = settings.PAGE_CACHE_LOCAL_MB * 1_000_000
        with self.lock:
            replaced = self.entries.pop(key, None)
            if replaced is not None:
                self.size -= _footprint(replaced[0])
            if _footprint(entry) <= budget:
                self.entries[key] = found
                self.size += _footprint(entry)
            while self.size > budget:
                self.size -= _footprint(self.entries.popitem(last=False)[1][0])
        return found


def _split(body: bytes) -> list[memoryview]:
    """``body`` cut at the CSRF placeholders, as views into it (no second copy)."""
    view, parts, start = memoryview(body), [], 0
    while (found := body.find(_CSRF_MARK_BYTES, start)) != -1:
        parts.append(view[start:found])
        start = found + len(_CSRF_MARK_BYTES)
    parts.append(view[start:])
    return parts


def _footprint(entry: Entry) -> int:
    """About what an entry holds in memory: its body and its compressed pieces."""
    return len(entry.body) + sum(map(len, entry.gzip_parts)) + 400


local = _Local()


def _reset_local(setting: str, **kwargs) -> None:
    if setting in ("CACHES", "PAGE_CACHE_SECONDS", "PAGE_CACHE_MIN_SECONDS",
                   "PAPER_PAGE_CACHE_SECONDS"):
        local.clear()


setting_changed.connect(_reset_local, dispatch_uid="pagecache-local")


def key_for(request: HttpRequest) -> str:
    """The page's key: its address, host and scheme included (a paper page's canonical
    link names them). ``get_host()`` also refuses hosts outside ALLOWED_HOSTS."""
    return f"{request.scheme}://{request.get_host()}{request.get_full_path()}"


def _release() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("paperfeed")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "checkout"


# Pages of another release (other templates, other Entry fields) are never read: the
# release is part of every key, so an upgrade needs no flush.
_PREFIX = f"pf:page4:{_release()}:"


def _shared_key(key: str) -> str:
    return _PREFIX + hashlib.sha256(key.encode()).hexdigest()[:40]


def _servable(entry: Entry | None, now: float, scope: str) -> bool:
    """Young enough to be served while another request renders the page again."""
    return entry is not None and now - entry.last_modified < ttl(scope) + RENDER_CLAIM_SECONDS


def _fresh(entry: Entry | None, gen: tuple[int, int], now: float, scope: str) -> bool:
    """Rendered in the current generations, or so recently that re-rendering would not be
    worth it: under a stream of votes a page is rendered at most once per
    PAPERFEED_PAGE_CACHE_MIN_SECONDS, and a vote shows within that time. Never older than
    its scope's ttl(): this process's copy expires when the shared one does."""
    if entry is None:
        return False
    age = now - entry.last_modified
    if age >= ttl(scope):
        return False
    return entry.generation == gen or 0 <= age < settings.PAGE_CACHE_MIN_SECONDS


@dataclass(frozen=True)
class Found:
    """What :func:`lookup` found: the page (with its body split at the CSRF placeholders)
    or None, and the generations it read, to file a new render under; on a miss, the
    newest stale copy still servable while another request renders the page."""

    page: tuple[Entry, list[bytes]] | None
    generation: tuple[int, int]
    read_at: float
    stale: tuple[Entry, list[bytes]] | None = None


def lookup(key: str, scope: str = LISTINGS) -> Found:
    """The page under ``key`` if it is fresh: from this process's memory when its
    generations were read less than PAGE_CACHE_MIN_SECONDS ago, else from the shared
    cache (one round trip for the generations and the page)."""
    now = time.time()
    found = local.get(key)
    known = pagegen.known.current(scope, now)
    if found is not None and known is not None and _fresh(found[0], known, now, scope):
        return Found(found, known, now)
    shared_key = _shared_key(key)
    # The page itself only when this process has no copy (or an expired one): the
    # generations are a few bytes, a page tens of kilobytes.
    local_copy = found is not None and now - found[0].last_modified < ttl(scope)
    shared = cache.get_many([GENERATION_KEY, PAPER_CHANGES, scope] if local_copy else
                            [GENERATION_KEY, PAPER_CHANGES, scope, shared_key])
    pagegen.known.follow(shared.get(PAPER_CHANGES), now)
    scoped = shared.get(scope)
    if scoped is None:
        scoped = pagegen.ensure(scope)
    gen = (shared.get(GENERATION_KEY) or 0, scoped)
    pagegen.known.learn({GENERATION_KEY: gen[0], scope: gen[1]}, now)
    if found is not None and _fresh(found[0], gen, now, scope):
        return Found(found, gen, now)
    entry = shared.get(shared_key) if not local_copy else cache.get(shared_key)
    if not isinstance(entry, Entry):
        entry = None
    if _fresh(entry, gen, now, scope):
        return Found(local.put(key, entry), gen, now)
    stale = max((e for e in (found and found[0], entry) if _servable(e, now, scope)),
                key=lambda e: e.last_modified, default=None)
    if stale is None:
        return Found(None, gen, now)
    return Found(None, gen, now, found if found and stale is found[0] else
                 (stale, _split(stale.body)))


def obtain(key: str, scope: str, looked: Found,
           render: Callable[[], tuple[Entry | None, HttpResponse]]
           ) -> tuple[tuple[Entry, list[bytes]] | None, HttpResponse | None]:
    """What to answer a request for ``key`` with, given its :func:`lookup`: the page
    (fresh; stale while another request renders it again; or rendered by ``render`` and
    stored), or ``render``'s own response when it made nothing to keep (entry None)."""
    if looked.page is not None:
        _count("hits")
        return looked.page, None
    claimed = first = False
    if looked.stale is not None:
        claimed = renderclaims.claim(key)
        if not claimed:
            _count("stale")
            return looked.stale, None
    else:
        under_way = renderclaims.join_render(key)
        first = under_way is None
        if not first and under_way.wait(RENDER_CLAIM_SECONDS):
            found = lookup(key, scope).page  # None if it was not kept: render
            if found is not None:
                _count("hits")
                return found, None
    _count("misses")
    try:
        entry, response = render()
        if entry is None:
            return None, response
        cache.set(_shared_key(key), entry, timeout=ttl(scope) + RENDER_CLAIM_SECONDS)
        return local.put(key, entry), None
    finally:
        if claimed:
            renderclaims.release(key)
        if first:
            renderclaims.end_render(key)


def _cacheable(request: HttpRequest) -> bool:
    return (request.method in ("GET", "HEAD") and settings.PAGE_CACHE_SECONDS > 0
            and "messages" not in request.COOKIES)  # a flash message is for one visitor


def _render(view, request, *args, **kwargs) -> HttpResponse:
    response = view(request, *args, **kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


def _entry_from(response: HttpResponse, gen: tuple[int, int], started: float) -> Entry | None:
    if (response.status_code != 200 or response.streaming
            or settings.SESSION_COOKIE_NAME in response.cookies):
        return None
    body = _CSRF_INPUT.sub(rf"\g<1>{CSRF_MARK}\g<2>", response.content.decode()).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    parts, crc = gzip_copy(body)
    return Entry(body, response["Content-Type"], etag, started, gen, gzip_parts=parts, gzip_crc=crc)


def gzip_copy(body: bytes) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
    """``body``'s compressed pieces and CRC columns (:func:`gzipsplice.compress`)."""
    return gzipsplice.compress(body, _CSRF_MARK_BYTES, CSRF_TOKEN_LENGTH, GZIP_LEVEL)


def _gzip_body(entry: Entry, parts: list[bytes], token: bytes) -> bytes:
    """The gzip stream of ``entry``'s page with ``token`` in place of its placeholders."""
    return gzipsplice.fill(entry.gzip_parts, entry.gzip_crc, len(entry.body),
                           len(parts) - 1, len(CSRF_MARK), token)


def gzip_etag(etag: str) -> str:
    """The ETag of a page's gzip-compressed copy: ``"abc"`` → ``"abc-gz"``."""
    return etag[:-1] + '-gz"'


accepts_gzip = gzipsplice.accepts_gzip


# A page's Last-Modified, formatted once per page rather than per answer.
_http_date = lru_cache(maxsize=8192)(http_date)


def _not_modified(request: HttpRequest, etags: tuple[str, ...], last_modified: float) -> str | None:
    """The ETag (one of ``etags``) to answer a 304 with, or None for a full response.
    If-None-Match compares weakly (a proxy may have marked the tag ``W/``)."""
    wanted = request.META.get("HTTP_IF_NONE_MATCH")
    if wanted:
        if wanted.strip() == "*":
            return etags[0]
        given = {tag.removeprefix("W/") for tag in parse_etags(wanted)}
        return next((etag for etag in etags if etag in given), None)
    since = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if not since:
        return None
    since = parse_http_date_safe(since)
    return etags[0] if since is not None and int(last_modified) <= since else None


def respond(request: HttpRequest, entry: Entry, parts: list[bytes] | None = None, *,
            body: bytes | None = None, etag: str | None = None) -> HttpResponse:
    """The cached page (``parts``: its body split at the CSRF placeholders), or a
    member's ``body`` made from it, with this visitor's CSRF token filled in; the page
    gzip-compressed when the request accepts it and the entry has a compressed copy."""
    parts = parts if parts is not None else _split(entry.body)
    compressed = (body is None and bool(entry.gzip_parts)
                  and accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    if etag is None:
        etag = entry.etag
        others = (gzip_etag(etag),) if entry.gzip_parts else ()
        if compressed:
            etag, others = others[0], (etag,)
    else:
        others = ()
    headers = {"ETag": etag, "Last-Modified": _http_date(entry.last_modified),
               # Browsers and proxies must ask again (cheaply, with the ETag) every time.
               "Cache-Control": "no-cache",
               "Vary": "Cookie, Accept-Encoding" if entry.gzip_parts else "Cookie"}
    matched = _not_modified(request, (etag, *others), entry.last_modified)
    if matched is not None:
        headers["ETag"] = matched  # the representation the client holds
        return HttpResponseNotModified(headers=headers)
    if compressed:
        headers["Content-Encoding"] = "gzip"
    token = get_token(request)
    if body is not None:
        content = body.replace(_CSRF_MARK_BYTES, token.encode())
    elif compressed:
        if len(token) != CSRF_TOKEN_LENGTH:  # never, with Django's tokens
            raise ValueError(f"a CSRF token of {len(token)} characters, not {CSRF_TOKEN_LENGTH}")
        content = _gzip_body(entry, parts, token.encode())
    else:
        content = token.encode().join(parts)
    headers["Content-Length"] = str(len(content))  # as CommonMiddleware would
    return HttpResponse(content, content_type=entry.content_type, headers=headers)


def _member_etag(entry: Entry, html: bytes) -> str:
    # Not a hash of 80 KB per request: the page's own tag plus a cheap checksum of the
    # member's copy (a conditional GET only needs to tell their versions apart).
    return f'{entry.etag[:-1]}-{zlib.crc32(html):08x}"'


def _render_anonymous(view, request: HttpRequest, member: bool, *args, **kwargs) -> HttpResponse:
    """The page as an anonymous reader sees it (a member's state is spliced in later).

    Read from the primary, never a read replica (paperfeed/replicas.py): a vote bumps the
    generation once it commits on the primary, and a replica that has not replayed it yet
    would file the old page under the new generation, stale until the next change. Misses
    are rare (at most one per page per PAPERFEED_PAGE_CACHE_MIN_SECONDS under a stream of
    votes)."""
    if not member:
        with dbreads.primary():
            return _render(view, request, *args, **kwargs)
    from django.contrib.auth.models import AnonymousUser

    real_user, request.user = request.user, AnonymousUser()
    try:
        with dbreads.primary():
            return _render(view, request, *args, **kwargs)
    finally:
        request.user = real_user


def cached_page(members: bool = False, scope: Callable[[dict], str] | None = None):
    """Serve a view's page from the cache for anonymous readers (``members``: for members
    too, with their own state spliced in by :mod:`paperfeed.papers.memberpages`). ``scope`` names the
    generation the page depends on besides the site-wide one, from the route's keyword
    arguments (:func:`by_paper`); by default, the listings'. Anonymous hits are answered
    before this by :mod:`paperfeed.papers.fastpath`, which finds the views by their
    ``page_cache`` attribute."""

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
            key = key_for(request)
            page_scope = scope(kwargs) if scope else LISTINGS
            looked = lookup(key, page_scope)

            def render() -> tuple[Entry | None, HttpResponse]:
                response = _render_anonymous(view, request, member, *args, **kwargs)
                return _entry_from(response, looked.generation, looked.read_at), response

            found, response = obtain(key, page_scope, looked, render)
            if found is None:
                return response
            entry, parts = found
            if member:
                html = memberpages.personalise(request, entry.body)
                return respond(request, entry, body=html, etag=_member_etag(entry, html))
            return respond(request, entry, parts)

        wrapper.page_cache = {"members": members, "scope": scope}
        return wrapper

    return decorate


def cached_response(request: HttpRequest, make: Callable[[], HttpResponse], *,
                    etag: Callable[[bytes], str], keep: tuple[str, ...] = ()) -> HttpResponse:
    """``make()``'s response for this address, from the page cache when fresh (same
    generation, same bound as the pages): for views whose answer is the same for every
    caller (the API's lists). ``etag`` tags a body once, when stored; the ``keep``
    headers are stored with it. Only 200s are kept."""
    key = key_for(request)

    def render() -> tuple[Entry | None, HttpResponse]:
        with dbreads.primary():  # as for the pages: a lagging replica must not fill it
            response = make()
        if response.status_code != 200 or response.streaming:
            return None, response
        headers = tuple((name, response[name]) for name in keep if response.has_header(name))
        return Entry(response.content, response["Content-Type"], etag(response.content),
                     looked.read_at, looked.generation, headers), response

    looked = lookup(key)
    found, response = obtain(key, LISTINGS, looked, render)
    if found is None:
        return response
    entry = found[0]
    return HttpResponse(entry.body, content_type=entry.content_type,
                        headers={"ETag": entry.etag, **dict(entry.headers)})
