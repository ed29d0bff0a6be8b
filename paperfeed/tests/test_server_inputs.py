"""What `paperfeed serve`'s default server (granian) does with hostile or broken HTTP:
each is refused with a 4xx or a closed connection, at once, and the site keeps answering
everyone else. The requests are raw bytes on a socket, as no well-behaved client sends them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from paperfeed.tests.test_behind_nginx import _free_port, _wait_for_port

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                                reason="starts its own server on an SQLite file; run by the "
                                       "SQLite pass")


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    app_port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PAPERFEED_") and k != "DATABASE_URL"}
    env.update(PAPERFEED_DATA_DIR=str(folder), DJANGO_SETTINGS_MODULE="paperfeed.settings")
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "serve", "--no-demo", "--no-follow",
         "--host", "127.0.0.1", "--port", str(app_port), "--workers", "1", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_port(app_port, server, "paperfeed serve")
        yield app_port
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
        assert "Unexpected exit" not in output, output  # no worker died on the way


def _exchange(port: int, data: bytes, *, read: bool = True) -> bytes:
    """What the server answers ``data`` with (b"" when it just closes), within 10 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        try:
            conn.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the request was all sent
        if not read:
            return b""
        try:
            return conn.recv(4096)
        except ConnectionResetError:
            return b""


def _healthy(port: int) -> bool:
    return _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                           b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
     b"431"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 a TLS hello to a plain port\r\n\r\n", b"400"),
    (b"GET\r\n\r\n", b"400"),
    (b"POST /digest/subscribe HTTP/1.1\r\nHost: localhost\r\nContent-Length: many\r\n\r\n",
     b"400"),
    (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + b"X-H: 1\r\n" * 5000 + b"\r\n", b"431"),
], ids=["header of 1 MB", "TLS on the plain port", "no path", "Content-Length not a number",
        "5,000 headers"])
def test_a_broken_request_is_refused_and_the_site_goes_on(port, request_bytes, status):
    answer = _exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert _healthy(port)


def test_a_body_of_30_mb_is_refused_without_being_read(port):
    body = b"email=" + b"a" * 30_000_000
    started = time.monotonic()
    answer = _exchange(port, b"POST /digest/subscribe HTTP/1.1\r\nHost: localhost\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
    # CSRF refuses it before anything reads the body: the server may close while the
    # client is still sending, so the answer itself may be lost, never the server.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert time.monotonic() - started < 10 and _healthy(port)


def test_requests_cut_off_or_held_open_do_not_hold_up_other_visitors(port):
    for _ in range(20):
        _exchange(port, b"GET /healthz HT", read=False)  # cut off mid-line
    # More half-sent requests than the server has Python threads, held open.
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
    try:
        for conn in held:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: localh")
        started = time.monotonic()
        assert _healthy(port) and time.monotonic() - started < 2
    finally:
        for conn in held:
            conn.close()
