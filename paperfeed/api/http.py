"""What every JSON endpoint shares: JSON errors, parameter parsing, auth, limits, caching."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.http import http_date, quote_etag
from django.views.decorators.csrf import csrf_exempt

from paperfeed.api import ratelimit
from paperfeed.api.models import ApiToken, FeedVersion
from paperfeed.lib.periods import month_bounds, week_bounds

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_PARAM_LENGTH = 500
# An arXiv category (cs.LG, cond-mat.stat-mech) or archive (cs), or empty (no filter).
CATEGORY_PATTERN = r"^([A-Za-z-]{1,20}(\.[A-Za-z-]{1,20})?)?$"


class ApiError(Exception):
    """Raised anywhere in an API view; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    # ``error`` is the key Hugging Face uses, so HF clients show our message too.
    response = JsonResponse({"error": message, "status": status}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_response(data, *, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


# -- parameters ---------------------------------------------------------------------------

def text_param(request: HttpRequest, name: str, default: str = "") -> str:
    """Free text (a query, a user name): surrounding blanks do not matter."""
    raw = request.GET.get(name)
    return default if raw is None else raw.strip()


def _typed(request: HttpRequest, name: str) -> str | None:
    """The raw value of a typed parameter; given but empty is an error, not "absent"."""
    raw = request.GET.get(name)
    if raw == "":
        raise ApiError(400, f"{name} is empty: give a value or leave it out.")
    return raw


def token_param(request: HttpRequest, name: str) -> str:
    """An opaque value (a cursor) exactly as given: blanks are not trimmed, empty is a 400."""
    return _typed(request, name) or ""


def int_param(request: HttpRequest, name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = _typed(request, name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw):
        raise ApiError(400, f"{name} must be a whole number, not {raw[:40]!r}.")
    number = int(raw)
    if not minimum <= number <= maximum:
        raise ApiError(400, f"{name} must be between {minimum} and {maximum}.")
    return number


def choice_param(request: HttpRequest, name: str, choices: tuple[str, ...], default: str) -> str:
    raw = _typed(request, name)
    if raw is None:
        return default
    if raw not in choices:
        raise ApiError(400, f"{name} must be one of {', '.join(choices)}.")
    return raw


def date_param(request: HttpRequest, name: str) -> dt.date | None:
    raw = _typed(request, name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date like 2025-11-20.") from None


def period_param(request: HttpRequest) -> tuple[dt.date, dt.date] | None:
    """``date``, ``week`` (2025-W09) or ``month`` (2025-02) as a (first, last) day range."""
    given = [name for name in ("date", "week", "month") if _typed(request, name) is not None]
    if len(given) > 1:
        raise ApiError(400, "Give only one of date, week and month.")
    if not given:
        return None
    raw = request.GET[given[0]]
    try:
        if given[0] == "date":
            day = date_param(request, "date")
            return day, day
        if given[0] == "week":
            return _week(raw)
        match = _MONTH.fullmatch(raw)
        if not match:
            raise ValueError
        return month_bounds(int(match[1]), int(match[2]))
    except ValueError:
        examples = {"week": "2025-W09", "month": "2025-02"}
        raise ApiError(400, f"{given[0]} must look like {examples.get(given[0], '2025-11-20')}.") from None


def _week(raw: str) -> tuple[dt.date, dt.date]:
    """An ISO week's days; a well-formed week the calendar lacks (W53 of a 52-week year)
    is a 404, like a day page that does not exist, not a malformed request."""
    match = _WEEK.fullmatch(raw)
    if not match:
        raise ValueError
    year, week = int(match[1]), int(match[2])
    if week == 53 and year >= dt.MINYEAR and dt.date(year, 12, 28).isocalendar().week != 53:
        raise ApiError(404, f"{year} has no ISO week 53.")
    return week_bounds(year, week)


# -- the decorator -----------------------------------------------------------------------

def _bearer_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    return raw.strip() if scheme.lower() == "bearer" and raw.strip() else None


def _authenticate(request: HttpRequest) -> None:
    request.api_token = None
    raw = _bearer_token(request)
    if raw is None:
        return
    token = ApiToken.objects.authenticate(raw)
    if token is None:
        raise ApiError(401, "The API token is not valid.", {"WWW-Authenticate": "Bearer"})
    # Written at most once a minute per token, to keep reads from becoming writes.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    request.api_token = token


def _check_input(request: HttpRequest, kwargs: dict) -> None:
    for name, values in request.GET.lists():
        for raw in values:
            if "\x00" in raw or len(raw) > MAX_PARAM_LENGTH:
                raise ApiError(400, f"{name} is too long or contains a NUL character.")
    for name, raw in kwargs.items():
        if "\x00" in raw or len(raw) > MAX_PARAM_LENGTH:
            raise ApiError(400, f"{name} is too long or contains a NUL character.")


def _limit(request: HttpRequest) -> dict[str, str]:
    if request.api_token is not None:
        return {}
    verdict = ratelimit.hit(ratelimit.client_key(request))
    if verdict is None:
        return {}
    headers = {"X-RateLimit-Limit": str(verdict.limit),
               "X-RateLimit-Remaining": str(verdict.remaining)}
    if not verdict.allowed:
        headers["Retry-After"] = str(verdict.retry_after)
        raise ApiError(429, f"Too many requests: the limit is {verdict.limit} per window; "
                            f"retry in {verdict.retry_after} s, or use an API token.", headers)
    return headers


def api_view(view: Callable | None = None, *, cache: str = "public, max-age=60",
             rate_limited: bool = True):
    """Wrap a read-only view: GET/HEAD only, token auth, rate limit, JSON errors, 304s."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            headers: dict[str, str] = {}
            if request.method == "OPTIONS":
                return _preflight()
            try:
                if request.method not in ("GET", "HEAD"):
                    raise ApiError(405, f"{request.method} is not supported here; use GET.",
                                   {"Allow": "GET, HEAD, OPTIONS"})
                _check_input(request, kwargs)
                _authenticate(request)
                if rate_limited:
                    headers = _limit(request)
                response = func(request, *args, **kwargs)
            except ApiError as exc:
                response = error_response(exc.status, exc.message, {**headers, **exc.headers})
            patch_vary_headers(response, ["Authorization"])
            if response.status_code == 200:
                response.setdefault("Cache-Control",
                                    "private, no-store" if request.api_token else cache)
                # A 304 is a new response: headers are added after it is made.
                response = _conditional(request, response)
            for name, value in headers.items():
                response.setdefault(name, value)
            return with_cors(response)

        # No cookies are read here (tokens are headers), so CSRF has nothing to protect;
        # exempting lets a stray POST get the clear 405 below instead of a CSRF page.
        return csrf_exempt(wrapper)

    return decorate(view) if view is not None else decorate


# Response headers browser code may read cross-origin besides the CORS-safelisted ones
# (Content-Type, Cache-Control, Last-Modified, ...): pagination, revalidation, limits.
EXPOSED_HEADERS = ("Link", "ETag", "Location", "Retry-After", "X-RateLimit-Limit",
                   "X-RateLimit-Remaining", "WWW-Authenticate", "Content-Disposition", "Allow")


def with_cors(response: HttpResponse) -> HttpResponse:
    """Open a public response to any origin. No cookie is ever read by these routes
    (tokens are headers), so ``*`` without credentials shares nothing private."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    return response


def _preflight(allow: str = "GET, HEAD, OPTIONS") -> HttpResponse:
    """CORS preflight: browsers ask before sending ``Authorization`` cross-origin."""
    response = with_cors(HttpResponse(status=204))
    response["Access-Control-Allow-Methods"] = allow
    response["Access-Control-Allow-Headers"] = ("Authorization, Content-Type, If-None-Match, "
                                                "If-Modified-Since")
    response["Access-Control-Max-Age"] = "86400"
    response["Allow"] = allow
    return response


def api_action(*methods: str):
    """Wrap a view that acts for an API token's user (votes, submissions).

    A token is required and the session cookie is ignored: these views are exempt from
    CSRF, so a cookie must never be enough to act. Never cached; JSON errors like reads.
    The anonymous read limit does not apply; the community's per-account and per-IP
    limits do, checked by the view.
    """
    allow = ", ".join((*methods, "OPTIONS"))

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS":
                return _preflight(allow)
            try:
                if request.method not in methods:
                    raise ApiError(405, f"{request.method} is not supported here; use "
                                        f"{' or '.join(methods)}.", {"Allow": allow})
                _check_input(request, kwargs)
                _authenticate(request)
                if request.api_token is None:
                    raise ApiError(401, "Send an API token as 'Authorization: Bearer <token>' "
                                        "(create one with `paperfeed apitoken USER`).",
                                   {"WWW-Authenticate": "Bearer"})
                response = func(request, *args, **kwargs)
            except ApiError as exc:
                response = error_response(exc.status, exc.message, exc.headers)
            response["Cache-Control"] = "private, no-store"
            patch_vary_headers(response, ["Authorization"])
            return with_cors(response)

        return csrf_exempt(wrapper)

    return decorate


MAX_BODY_BYTES = 64 * 1024


def json_body(request: HttpRequest) -> dict:
    """The request's JSON object (an empty body is ``{}``); anything else is a clear 400."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit():
        raise ApiError(400, "The Content-Length header is not a number.")
    if int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    raw = request.body
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """ETag from the body and 304 on a matching ``If-None-Match``.

    Deliberately no Last-Modified: votes change a paper's count without touching its
    ``updated_at``, so a date would answer ``If-Modified-Since`` with stale 304s. A hash of
    the body is exact whatever changed.
    """
    if response.streaming:
        return response
    if not response.has_header("ETag"):  # else set when cached (body_etag), the same tag
        set_response_etag(response)
    return get_conditional_response(request, etag=response.get("ETag"), response=response)


def body_etag(body: bytes) -> str:
    """The ETag ``set_response_etag`` gives ``body``."""
    return quote_etag(hashlib.md5(body, usedforsecurity=False).hexdigest())


def conditional_view(view: Callable) -> Callable:
    """For non-API public views (feeds): CORS, ETag and Last-Modified, and 304s.

    Both validators follow the body: the ETag is its hash, and Last-Modified is when
    this URL first sent that body (``FeedVersion``), so neither can tell a reader
    "not modified" about a changed feed, nor "modified" about an unchanged one.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "OPTIONS":
            return _preflight()
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            response = HttpResponseNotFound(f"{exc}\n", content_type="text/plain; charset=utf-8")
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response.setdefault("Cache-Control", "public, max-age=300")
            response = _versioned(request, response)
        return with_cors(response)

    return wrapper


def _versioned(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    set_response_etag(response)
    etag = response["ETag"]
    since = _first_sent(request.get_full_path(), etag)
    response["Last-Modified"] = http_date(since.timestamp())
    return get_conditional_response(request, etag=etag, last_modified=int(since.timestamp()),
                                    response=response)


def _first_sent(url: str, etag: str) -> dt.datetime:
    """When ``url`` first sent the body tagged ``etag`` (now, if this is the first time).

    Each new body moves the time forward by at least a second, so a reader holding the
    previous Last-Modified never gets a 304 for a body that changed within one second.
    """
    key = hashlib.sha256(url.encode()).hexdigest()
    row = FeedVersion.objects.filter(key=key).first()
    if row is not None and row.etag == etag:
        return row.since
    now = timezone.now().replace(microsecond=0)
    since = now if row is None else max(now, row.since + dt.timedelta(seconds=1))
    if row is not None:
        FeedVersion.objects.filter(pk=row.pk).update(etag=etag, since=since)
        return since
    try:
        with transaction.atomic():
            FeedVersion.objects.create(key=key, etag=etag, since=since)
    except IntegrityError:  # another process saw this URL first at the same moment
        FeedVersion.objects.filter(key=key).update(etag=etag, since=since)
    if secrets.randbelow(100) == 0:
        # Search feeds make a row per query: forget versions untouched for 90 days (a
        # feed that comes back just starts again from now).
        FeedVersion.objects.filter(since__lt=now - dt.timedelta(days=90)).delete()
    return since
