"""The polite HTTP client every source fetches through.

arXiv asks harvesters to make one request at a time, wait a few seconds between
requests, honour ``Retry-After`` on 503 and identify themselves; Hugging Face deserves
the same. One :class:`PoliteClient` enforces all of that, so no source can forget it.

Time is injected (``clock`` and ``sleep``) so tests fake the waits instead of sleeping.
Only the standard library is used: the sources need nothing a plain GET cannot do.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from paperfeed import conf

log = logging.getLogger("paperfeed.sources")

_RETRYABLE = frozenset({429, 500, 502, 503, 504})
# Never wait longer than this on one Retry-After, whatever the server says.
_MAX_RETRY_AFTER = 600.0


class SourceError(Exception):
    """Anything a source cannot do; the message says what and where."""


class FetchError(SourceError):
    """The server could not be reached or kept failing after every retry."""

    def __init__(self, message: str, *, url: str, status: int | None = None):
        super().__init__(message)
        self.url, self.status = url, status


class InvalidURLError(FetchError):
    """The URL cannot be requested at all (bad host, port or characters); never retried."""


class TooLargeError(SourceError):
    """The response is bigger than the caller allows; the download was abandoned."""

    def __init__(self, message: str, *, url: str, size: int | None = None):
        super().__init__(message)
        self.url, self.size = url, size


class FormatError(SourceError):
    """The server answered, but with something that is not what the protocol promises."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def default_user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("paperfeed")
    except PackageNotFoundError:  # running from a checkout without install
        ours = "dev"
    contact = conf.value("PAPERFEED_SOURCES_CONTACT")
    suffix = f"; {contact}" if contact else ""
    return f"paperfeed/{ours} (self-hosted research paper feed{suffix})"


def build_url(base: str, params: Sequence[tuple[str, str]] | Mapping[str, str] | None) -> str:
    if not params:
        return base
    query = urllib.parse.urlencode(list(params.items()) if isinstance(params, Mapping) else params)
    return f"{base}{'&' if '?' in base else '?'}{query}"


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _check_url(url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises on a port out of range)
        if not parts.hostname:
            raise ValueError("no host")
    except ValueError as exc:
        raise InvalidURLError(f"{url}: not a valid URL ({exc})", url=url) from exc


_CHUNK = 1 << 16


def _read_at_most(reply, max_bytes: int, url: str) -> bytes:
    declared = reply.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"{url}: {int(declared):,} bytes (Content-Length), over the "
                            f"{max_bytes:,}-byte limit", url=url, size=int(declared))
    chunks, size = [], 0
    # Read one byte past the limit: the server may not have declared a length.
    while chunk := reply.read(min(_CHUNK, max_bytes + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise TooLargeError(f"{url}: more than {max_bytes:,} bytes, over the limit "
                                f"(download abandoned)", url=url)
    return b"".join(chunks)


class PoliteClient:
    """GET with a delay between requests, retries with back-off, and one request at a time."""

    def __init__(
        self,
        *,
        delay: float | None = None,
        max_retries: int | None = None,
        timeout: float = 60.0,
        user_agent: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.delay = conf.value("PAPERFEED_SOURCES_DELAY") if delay is None else delay
        self.max_retries = (
            conf.value("PAPERFEED_SOURCES_MAX_RETRIES") if max_retries is None else max_retries
        )
        self.timeout = timeout
        self.user_agent = user_agent or default_user_agent()
        self.clock, self.sleep = clock, sleep
        self.requests_made = 0
        self._last_request: float | None = None
        # arXiv: "make no more than one request at a time". The lock makes that true even
        # when several threads share one client.
        self._lock = threading.Lock()

    def _wait_turn(self) -> None:
        if self._last_request is None:
            return
        remaining = self.delay - (self.clock() - self._last_request)
        if remaining > 0:
            self.sleep(remaining)

    def _once(self, url: str, max_bytes: int | None = None) -> Response:
        self._wait_turn()
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
        )
        self.requests_made += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                headers = dict(reply.headers.items())
                body = reply.read() if max_bytes is None else _read_at_most(reply, max_bytes, url)
                return Response(url, reply.status, body, headers)
        except urllib.error.HTTPError as exc:
            limit = -1 if max_bytes is None else max_bytes  # an error page is read, not kept
            body = exc.read(limit) if exc.fp is not None else b""
            return Response(url, exc.code, body, dict(exc.headers.items()) if exc.headers else {})
        finally:
            self._last_request = self.clock()

    def get(self, url: str, params: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
            *, max_bytes: int | None = None) -> Response:
        """The response to GET ``url``; 4xx answers are returned for the caller to read.

        Retries 429/5xx, dropped connections and truncated bodies up to ``max_retries``
        times, waiting ``Retry-After`` when the server gives one and ``delay * 2**n``
        otherwise; then raises :class:`FetchError`. With ``max_bytes``, a successful body
        is streamed and :class:`TooLargeError` raised (never retried) as soon as it is
        known to be bigger, so a huge file is neither downloaded nor held in memory.
        """
        full = build_url(url, params)
        _check_url(full)
        with self._lock:
            attempt = 0
            while True:
                problem, wait = "", None
                try:
                    response = self._once(full, max_bytes)
                except (ValueError, http.client.InvalidURL) as exc:
                    # urllib's word for a malformed URL: asking again cannot help.
                    raise InvalidURLError(f"{full}: not a valid URL ({exc})", url=full) from exc
                except (TimeoutError, urllib.error.URLError, http.client.HTTPException,
                        ConnectionError) as exc:
                    reason = getattr(exc, "reason", exc)
                    problem, status = f"{type(exc).__name__}: {reason}", None
                else:
                    if response.status not in _RETRYABLE:
                        return response
                    status = response.status
                    problem = f"HTTP {status}"
                    wait = _retry_after_seconds(response.headers.get("Retry-After"))
                if attempt >= self.max_retries:
                    message = f"{full}: giving up after {attempt + 1} attempts ({problem})"
                    log.error(message)
                    raise FetchError(message, url=full, status=status)
                if wait is None:
                    wait = self.delay * (2**attempt) or 1.0
                wait = min(wait, _MAX_RETRY_AFTER)
                log.warning("%s: %s; retrying in %.0f s", full, problem, wait)
                self.sleep(wait)
                attempt += 1
