"""A loopback HTTP server that replays recorded responses: the test double for the internet.

Sources are tested against the real recorded answers of arXiv and Hugging Face (in
``../shared/fixtures``), served from 127.0.0.1 so the whole client — URL building,
headers, retries, parsing — runs for real. Only the transport is local.

Routes are matched on the path and the *set* of query parameters (order-insensitive).
A route holds a script of replies: each request takes the next one and the last repeats,
so "503 with Retry-After, then 200" is ``server.add(path, Reply(503, ...), Reply(200, ...))``.
A reply can also be truncated (it promises the full ``Content-Length`` and then hangs up,
as a dropped connection does), dripped (``drip=(seconds, bytes)``: a few bytes at a time,
as a stalled or hostile server sends) or sent without a ``Content-Length`` at all
(``content_length=False``: the body ends when the connection closes).

Usage::

    with ReplayServer() as server:
        server.add_exchange(shared / "fixtures/arxiv-api/id_1605.08386_....json")
        fetch_by_ids(["1605.08386"], base_url=server.url + "/api/query")
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml; charset=utf-8"
    truncate_at: int | None = None  # send only this many bytes, then close
    hold: threading.Event | None = None  # answer only once this is set (a hung server)
    drip: tuple[float, int] | None = None  # (seconds between writes, bytes per write)
    content_length: bool = True  # False: no header, close the connection after the body
    pause: float = 0.0  # seconds to wait before answering (a slow server)
    # Send this many filler bytes, generated chunk by chunk, instead of ``body``: a huge
    # download that the server never holds in memory (``content_length`` as above).
    stream_size: int | None = None

    @property
    def payload(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class SeenRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float = 0.0  # time.monotonic() when it arrived


def route_key(path_and_query: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urllib.parse.urlsplit(path_and_query)
    params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    return parts.path or "/", tuple(sorted(params))


class ReplayServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 with a free port and scripted replies."""

    def __init__(self) -> None:
        self._routes: dict[tuple, deque[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[SeenRequest] = []
        self.unmatched: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._serve(self)

            def log_message(self, format: str, *args) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path_and_query: str, *replies: Reply) -> None:
        """Script the replies to GET ``path_and_query`` (e.g. ``/oai?verb=ListRecords``)."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes[route_key(path_and_query)] = deque(replies)

    def add_file(self, path_and_query: str, file: Path, *, status: int = 200,
                 content_type: str | None = None) -> None:
        guessed = "application/json" if file.suffix == ".json" else "application/xml"
        self.add(path_and_query, Reply(status, file.read_bytes(),
                                       content_type=content_type or guessed))

    def add_exchange(self, file: Path) -> str:
        """Serve a recorded ``{url, status_code, body}`` exchange at its own path and query."""
        exchange = json.loads(file.read_text())
        parts = urllib.parse.urlsplit(exchange["url"])
        target = f"{parts.path}?{parts.query}"
        self.add(target, Reply(exchange["status_code"], exchange["body"],
                               content_type="application/atom+xml; charset=utf-8"))
        return target

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def _next_reply(self, target: str) -> Reply | None:
        with self._lock:
            script = self._routes.get(route_key(target))
            if script is None:
                return None
            return script.popleft() if len(script) > 1 else script[0]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        with self._lock:
            self.requests.append(SeenRequest(
                parts.path, urllib.parse.parse_qs(parts.query, keep_blank_values=True),
                dict(handler.headers.items()), time.monotonic(),
            ))
        reply = self._next_reply(handler.path)
        if reply is None:
            self.unmatched.append(handler.path)
            reply = Reply(404, f"no recorded response for {handler.path}\n",
                          content_type="text/plain")
        if reply.hold is not None:
            reply.hold.wait(timeout=60)
        if reply.pause:
            time.sleep(reply.pause)
        if reply.stream_size is not None:
            self._stream(handler, reply)
            return
        payload = reply.payload
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        if reply.content_length:
            handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.truncate_at is not None:
            payload = payload[: reply.truncate_at]
        if reply.truncate_at is not None or not reply.content_length:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        try:
            if reply.drip is None:
                handler.wfile.write(payload)
            else:
                pause, size = reply.drip
                for start in range(0, len(payload), size):
                    handler.wfile.write(payload[start:start + size])
                    handler.wfile.flush()
                    if self._stopping.wait(pause):
                        break
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up: nothing more to say

    @staticmethod
    def _stream(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        if reply.content_length:
            handler.send_header("Content-Length", str(reply.stream_size))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        chunk, left = b"%PDF-1.7\n" + b"0" * ((1 << 16) - 9), reply.stream_size
        try:
            while left > 0:
                handler.wfile.write(chunk[:left])
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should on a download too large

    def start(self) -> ReplayServer:
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FakeTime:
    """A clock and a sleep that advances it, so retry waits take no real time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


_RECORD = re.compile(r"<record>.*?</record>\s*", re.S)


def split_list_records(xml: str, per_page: int, token_prefix: str = "6960524") -> list[str]:
    """Cut one recorded ``ListRecords`` response into pages chained by resumption tokens.

    arXiv serves a harvest as pages of records joined by ``<resumptionToken>``s (the
    last one empty); a recording that holds one long page becomes such a chain, with
    every record, header and namespace left exactly as arXiv sent it. Page *n*'s token
    is ``f"{token_prefix}|{n * per_page + 1}"``, the shape of arXiv's own tokens.
    """
    records = _RECORD.findall(xml)
    start = xml.index(records[0])
    end = xml.index("</ListRecords>")
    head, tail = xml[:start], xml[end:]
    total = len(records)
    pages = []
    for n, first in enumerate(range(0, total, per_page)):
        chunk = "".join(records[first : first + per_page])
        cursor = f'cursor="{first}" completeListSize="{total}"'
        if first + per_page < total:
            token = f"<resumptionToken {cursor}>{token_prefix}|{(n + 1) * per_page + 1}</resumptionToken>\n"
        else:
            token = f"<resumptionToken {cursor}/>\n"
        pages.append(head + chunk + token + tail)
    return pages


def serve_oai_harvest(server: ReplayServer, first_query: str, pages: list[str],
                      path: str = "/oai", token_prefix: str = "6960524") -> None:
    """Route a chain from :func:`split_list_records`: page 1 at ``first_query``, the rest by token."""
    server.add(f"{path}?{first_query}", Reply(200, pages[0]))
    per_page = None
    for n, body in enumerate(pages[1:], 1):
        if per_page is None:
            per_page = len(_RECORD.findall(pages[0]))
        token = f"{token_prefix}|{n * per_page + 1}"
        server.add(f"{path}?" + urllib.parse.urlencode(
            {"verb": "ListRecords", "resumptionToken": token}), Reply(200, body))


def wait_for(ready, process, what: str, timeout: float = 60.0):
    """Poll ``ready()`` until it returns something truthy, and return that.

    For tests that drive a ``paperfeed`` command in a child process to a given point
    (before killing it): if ``process`` exits or ``timeout`` passes first, it is killed
    and the test fails with ``what`` and the command's output.
    """
    deadline = time.monotonic() + timeout
    while not (result := ready()):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError(f"{what}: {process.communicate()[0]}")
        time.sleep(0.05)
    return result
