"""The anonymous rate limit holds across separate server processes sharing one database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="starts its own servers on an SQLite file; run once, by the SQLite pass")


def _free_port() -> int:
    for port in range(18530, 18600):  # the range this project's manual servers use
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18530-18599")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read()}")
        try:
            if _status(url) == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def test_two_server_processes_share_one_allowance(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PAPERFEED_DATA_DIR=str(tmp_path), PAPERFEED_API_RATE_LIMIT="4",
               PAPERFEED_API_RATE_WINDOW="3600", DJANGO_SETTINGS_MODULE="paperfeed.settings")
    cli = [sys.executable, "-m", "paperfeed.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True, timeout=120)
    servers = []
    try:
        for _ in range(2):
            port = _free_port()
            servers.append((f"http://127.0.0.1:{port}", subprocess.Popen(
                [*cli, "serve", "--no-demo", "--threads", "2", "--port", str(port)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
            _wait_until_up(servers[-1][0] + "/api/openapi.json", servers[-1][1])
        (first, _), (second, _) = servers
        statuses = [_status(base + "/api/daily_papers") for base in (first, second) * 3]
    finally:
        for _, process in servers:
            process.terminate()
            process.wait(timeout=30)
    # Four requests in all are allowed, whichever process served them.
    assert statuses == [200, 200, 200, 200, 429, 429]
