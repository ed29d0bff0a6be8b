"""Anonymous readers of the cached pages, answered before the rest of the middleware.

A cache hit used to run the whole stack — sessions, CSRF, authentication, messages,
URL resolution, the view's decorator — for a page that is the same for every anonymous
reader; at 200 clients that stack, not the page, limited the rate. This middleware
stands right after whitenoise (it is as cheap as a static file) and answers a GET or
HEAD from a visitor with no session and no flash message by itself when its path is a
cached page (:func:`paperfeed.papers.pagecache.cached_page`) and the page is cached and
fresh (or stale while another request renders it again). Anything else — a miss, a
member, a POST, an uncached view — goes on down the stack unchanged.

What the skipped middleware would have done for such a request, it does too:

* CSRF: Django's own ``CsrfViewMiddleware`` reads the visitor's ``csrftoken`` cookie
  (or makes a new secret, sent back in ``Set-Cookie`` exactly as that middleware writes
  it: :func:`paperfeed.lib.csrftoken.cookie`), and ``get_token`` masks it into the
  page's forms, so the vote and subscribe forms validate on POST;
* the host is checked against ``ALLOWED_HOSTS`` (``CommonMiddleware`` would);
* ``request.resolver_match`` is set, so ``paperfeed.ops.MetricsMiddleware`` counts the
  request under its route; the page cache's hit counter counts it too;
* X-Frame-Options, the CSP and the security headers come from middleware above this one
  (settings.MIDDLEWARE).

Sessions, authentication and messages have nothing to add for a visitor without their
cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import Resolver404, ResolverMatch, resolve

from paperfeed.lib import csrftoken
from paperfeed.papers import pagecache, pagegen, renderclaims


@lru_cache(maxsize=4096)
def cached_view(path_info: str) -> ResolverMatch | None:
    """The route of ``path_info`` when its view is a cached page (memoised: resolving
    costs as much as the rest of a hit; bounded, since paths come from visitors)."""
    try:
        match = resolve(path_info)
    except Resolver404:
        return None
    return match if getattr(match.func, "page_cache", None) is not None else None


def _reset(setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        cached_view.cache_clear()


setting_changed.connect(_reset, dispatch_uid="fastpath-routes")
# Pages answered here, per process (tests tell the fast path from the decorator by it).
stats = {"served": 0}


class FastPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._from_cache(request)
        return self.get_response(request) if response is None else response

    def _from_cache(self, request: HttpRequest) -> HttpResponse | None:
        if (request.method not in ("GET", "HEAD")
                or settings.SESSION_COOKIE_NAME in request.COOKIES
                or "messages" in request.COOKIES or settings.PAGE_CACHE_SECONDS <= 0):
            return None
        match = cached_view(request.path_info)
        if match is None:
            return None
        scope = match.func.page_cache.get("scope")
        key = pagecache.key_for(request)  # get_host() checks the host
        looked = pagecache.lookup(key, scope(match.kwargs) if scope else pagegen.LISTINGS)
        found, outcome = looked.page, "hits"
        if found is None:
            # A stale copy while another request renders the page again; else the page
            # is rendered (and claimed, and stored) down the stack.
            if looked.stale is None or not renderclaims.rendering(key):
                return None
            found, outcome = looked.stale, "stale"
        request.resolver_match = match
        pagecache._count(outcome)
        stats["served"] += 1
        self.csrf.process_request(request)
        response = pagecache.respond(request, *found)
        if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and not settings.CSRF_USE_SESSIONS:
            # What CsrfViewMiddleware.process_response adds (the page already varies on
            # Cookie), from Django's own output once a second.
            secret = request.META["CSRF_COOKIE"]
            response.cookies[settings.CSRF_COOKIE_NAME] = csrftoken.cookie(secret)
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
            return response
        return self.csrf.process_response(request, response)
