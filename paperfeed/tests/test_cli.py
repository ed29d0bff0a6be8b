import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import call_command

from paperfeed.cli import main

pytestmark = pytest.mark.django_db


def test_stats_prints_papers_and_days_as_json(demo_corpus, capsys):
    call_command("stats", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["papers"] == 389 and data["days"] == 134
    assert data["latest_day"] == "2025-11-20" and data["sources"] == {"pages": 392}


def test_the_console_script_accepts_dashed_command_names(demo_seeds, capsys):
    main(["paperfeed", "import-pages", str(demo_seeds[0])])
    assert "18 papers — fetched 18 / new 18" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_migrates_loads_the_demo_corpus_and_serves(tmp_path):
    """The README's first command, end to end: a fresh data dir, a real server process."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERFEED_", "DATABASE_URL"))}
    env["PAPERFEED_DATA_DIR"] = str(tmp_path)
    paperfeed = os.path.join(os.path.dirname(sys.executable), "paperfeed")
    server = subprocess.Popen([paperfeed, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240  # the first start also embeds 389 abstracts
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/papers/all", timeout=5) as response:
                    html = response.read().decode()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stdout.read()) from None
                time.sleep(0.3)
        assert "389 papers" in html
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/paperfeed/site.css") as response:
            assert b"prefers-color-scheme: dark" in response.read()
        semantic = f"http://127.0.0.1:{port}/api/v1/search?q=robots+that+learn+to+walk&mode=semantic"
        with urllib.request.urlopen(semantic) as response:
            found = json.load(response)
        assert found["mode"] == "semantic" and len(found["results"]) == 20
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Loaded the demo corpus: fetched 392 / new 389" in output
    assert "Embedded 389 papers." in output
    assert (tmp_path / "paperfeed.sqlite3").exists()
