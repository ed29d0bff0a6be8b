"""The polite HTTP client every source fetches through.

arXiv asks harvesters to make one request at a time, wait a few seconds between
requests, honour ``Retry-After`` on 503 and identify themselves; Hugging Face deserves
the same. One :class:`PoliteClient` enforces all of that, so no source can forget it.

Time is injected (``clock`` and ``sleep``) so tests fake the waits instead of sleeping.
Only the standard library is used: the sources need nothing a plain GET cannot do.
"""

from __future__ import annotations

import http.client
import io
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

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


class LimitError(FetchError):
    """A limit of ours was hit (``PAPERFEED_HTTP_DEADLINE``, ``PAPERFEED_HTTP_MAX_BYTES``).

    Not retried: the same server would most likely do the same again.
    """


class TooLargeError(LimitError):
    """The body is bigger than allowed; the download was abandoned (``size``: as declared)."""

    def __init__(self, message: str, *, url: str, size: int | None = None):
        super().__init__(message, url=url)
        self.size = size


class InvalidURLError(FetchError):
    """The URL cannot be requested at all (bad host, port or characters); never retried."""


class ShortBodyError(http.client.HTTPException):
    """The connection ended before the ``Content-Length`` the server promised (retried)."""


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


class PoliteClient:
    """GET with a delay between requests, retries with back-off, and one request at a time.

    Each request has an overall ``deadline`` (seconds, however slowly the server sends)
    and its body a size cap (``max_bytes``); a body shorter than its ``Content-Length``
    is a dropped connection, never a complete answer.
    """

    def __init__(
        self,
        *,
        delay: float | None = None,
        max_retries: int | None = None,
        timeout: float = 60.0,
        deadline: float | None = None,
        max_bytes: int | None = None,
        user_agent: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.delay = conf.value("PAPERFEED_SOURCES_DELAY") if delay is None else delay
        self.max_retries = (
            conf.value("PAPERFEED_SOURCES_MAX_RETRIES") if max_retries is None else max_retries
        )
        self.timeout = timeout
        self.deadline = conf.value("PAPERFEED_HTTP_DEADLINE") if deadline is None else deadline
        self.max_bytes = conf.value("PAPERFEED_HTTP_MAX_BYTES") if max_bytes is None \
            else max_bytes
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

    def _attempt(self, url: str, *, stream: bool, max_bytes: int | None
                 ) -> tuple[Response, http.client.HTTPResponse | None]:
        """One request: its whole response, or (its status and headers, the open reply)
        when ``stream`` and the answer is a 200 the caller will read itself."""
        self._wait_turn()
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
        )
        self.requests_made += 1
        # The deadline is real time, whatever clock the waits use.
        started = time.monotonic()
        error: urllib.error.HTTPError | None = None
        try:
            try:
                reply = urllib.request.urlopen(request, timeout=min(self.timeout, self.deadline))
                status = reply.status
            except urllib.error.HTTPError as exc:
                if exc.fp is None:
                    headers = dict(exc.headers.items()) if exc.headers else {}
                    return Response(url, exc.code, b"", headers), None
                # Kept past the except block: collecting the error closes its reply.
                error = exc
                reply, status = error.fp, error.code
            headers = dict(reply.headers.items())
            if stream and status == 200:
                return Response(url, status, b"", headers), reply
            with reply:
                # An error page is read up to the cap and kept that far, not refused.
                body = self._read_body(reply, url, started, max_bytes, cut=status != 200)
            return Response(url, status, body, headers), None
        finally:
            self._last_request = self.clock()

    def _read_body(self, reply, url: str, started: float, max_bytes: int | None,
                   cut: bool = False) -> bytes:
        limit = self.max_bytes if max_bytes is None else max_bytes
        named = f": PAPERFEED_HTTP_MAX_BYTES ({limit:,} bytes)" if max_bytes is None else ""
        expected = _content_length(reply)
        if expected is not None and expected > limit and not cut:
            raise TooLargeError(f"{url}: the response is {expected:,} bytes (Content-Length), "
                                f"more than {limit:,} bytes, over the limit{named}", url=url, size=expected)
        sock = _socket_of(reply)
        chunks, received = [], 0
        while True:
            remaining = self.deadline - (time.monotonic() - started)
            try:
                if remaining <= 0:
                    raise TimeoutError
                if sock is not None:
                    sock.settimeout(min(self.timeout, remaining))
                # read1: whatever has arrived, so a dripping server cannot hold one
                # read past the deadline.
                chunk = reply.read1(1 << 16)
            except TimeoutError:
                if time.monotonic() - started < self.deadline:
                    raise  # the per-read timeout: a stalled connection, retried
                raise LimitError(
                    f"{url}: no complete response within PAPERFEED_HTTP_DEADLINE "
                    f"({self.deadline:g} s; {received:,} bytes had arrived)", url=url) from None
            if not chunk:
                break
            received += len(chunk)
            if received > limit:
                if cut:
                    chunks.append(chunk[: len(chunk) - (received - limit)])
                    return b"".join(chunks)
                raise TooLargeError(f"{url}: the response is more than {limit:,} bytes, over the "
                                    f"limit{named} (download abandoned)", url=url)
            chunks.append(chunk)
        if expected is not None and received < expected:
            raise ShortBodyError(f"body cut short: {received:,} of {expected:,} bytes")
        return b"".join(chunks)

    def get(self, url: str, params: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
            *, max_bytes: int | None = None) -> Response:
        """The response to GET ``url``; 4xx answers are returned for the caller to read.

        Retries 429/5xx, dropped connections and truncated bodies up to ``max_retries``
        times, waiting ``Retry-After`` when the server gives one and ``delay * 2**n``
        otherwise; then raises :class:`FetchError`. A limit hit raises
        :class:`LimitError` at once (:class:`TooLargeError` for the size: ``max_bytes``
        if given, else ``PAPERFEED_HTTP_MAX_BYTES``), a malformed URL
        :class:`InvalidURLError`.
        """
        return self._request(build_url(url, params), stream=False, max_bytes=max_bytes)[0]

    @contextmanager
    def stream(self, url: str) -> Iterator[IO[bytes]]:
        """GET ``url`` (a 200) to read as it arrives, for downloads too large to hold.

        Retried like :meth:`get` until the body starts. No deadline and no size cap (a
        snapshot is gigabytes and takes hours), but each read waits at most ``timeout``;
        a body that ends before its ``Content-Length`` raises :class:`FetchError` where
        it ends.
        """
        response, reply = self._request(url, stream=True, max_bytes=None)
        if reply is None:
            raise FetchError(f"{url}: HTTP {response.status}", url=url, status=response.status)
        with reply, io.BufferedReader(_CheckedBody(reply, url), buffer_size=1 << 16) as body:
            yield body

    def _request(self, full: str, *, stream: bool, max_bytes: int | None
                 ) -> tuple[Response, http.client.HTTPResponse | None]:
        _check_url(full)
        with self._lock:
            attempt = 0
            while True:
                problem, wait = "", None
                try:
                    response, reply = self._attempt(full, stream=stream, max_bytes=max_bytes)
                except (ValueError, http.client.InvalidURL) as exc:
                    # urllib's word for a malformed URL: asking again cannot help.
                    raise InvalidURLError(f"{full}: not a valid URL ({exc})", url=full) from exc
                except ShortBodyError as exc:
                    problem, status = str(exc), None
                except (TimeoutError, urllib.error.URLError, http.client.HTTPException,
                        ConnectionError) as exc:
                    reason = getattr(exc, "reason", exc)
                    problem, status = f"{type(exc).__name__}: {reason}", None
                else:
                    if response.status not in _RETRYABLE:
                        return response, reply
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


def _content_length(reply) -> int | None:
    value = (reply.headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


def _socket_of(reply):
    """The socket under an ``http.client`` response (to bound each read), if reachable."""
    raw = getattr(getattr(reply, "fp", None), "raw", None)
    return getattr(raw, "_sock", None)


class _CheckedBody(io.RawIOBase):
    """A response body that raises at its end when fewer bytes came than promised."""

    def __init__(self, reply: http.client.HTTPResponse, url: str):
        self.reply, self.url = reply, url
        self.expected = _content_length(reply)
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.reply.readinto(buffer)
        self.received += n
        if not n and len(buffer) and self.expected is not None \
                and self.received < self.expected:
            raise FetchError(f"{self.url}: body cut short: {self.received:,} of "
                             f"{self.expected:,} bytes (Content-Length) arrived", url=self.url)
        return n
