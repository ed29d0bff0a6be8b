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
    # 389 seed papers + 60 from Hugging Face + 68 from arXiv only (3 of the 25 arXiv API
    # papers are also on the HF day); the two HF days join the seeds' 134.
    assert data["papers"] == 517 and data["days"] == 136
    assert data["latest_day"] == "2026-07-31"
    assert data["sources"] == {"pages": 392, "hf-daily": 60, "arxiv-api": 25, "arxiv-oai": 46}


def test_the_console_script_accepts_dashed_command_names(demo_seeds, capsys):
    main(["paperfeed", "import-pages", str(demo_seeds[0])])
    assert "18 papers — fetched 18 / new 18" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _wait_for(what: str, check, server: subprocess.Popen, log, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            server.wait(timeout=60)
            raise AssertionError(f"{what}:\n{log.read_text()}")
        time.sleep(0.3)


def test_serve_migrates_loads_the_demo_corpus_and_serves_while_embedding(tmp_path):
    """The README's first command, end to end: a fresh data dir, a real server process.

    The site answers before the embeddings exist (a background ``paperfeed embed``
    computes them); semantic search works once that process is done.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERFEED_", "DATABASE_URL"))}
    env["PAPERFEED_DATA_DIR"] = str(tmp_path / "data")
    paperfeed = os.path.join(os.path.dirname(sys.executable), "paperfeed")
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([paperfeed, "serve", "--port", str(port)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        html = _wait_for("the server never answered", lambda: _get(f"{base}/papers/all"),
                         server, log, 240).decode()
        assert "517 papers" in html
        assert "Embedded" not in log.read_text()  # serving did not wait for the embeddings
        assert b"prefers-color-scheme: dark" in _get(f"{base}/static/paperfeed/site.css")
        # Under load (two cores shared by many processes) embedding took up to ~5 min.
        _wait_for("the embeddings were never finished",
                  lambda: "Embedded 517 papers." in log.read_text(), server, log, 900)
        semantic = f"{base}/api/v1/search?q=robots+that+learn+to+walk&mode=semantic"
        found = json.loads(_get(semantic, timeout=300))  # the first loads the model
        assert found["mode"] == "semantic" and len(found["results"]) == 20
    finally:
        server.terminate()
        server.wait(timeout=60)
    output = log.read_text()
    assert "Loaded the demo corpus: fetched 523 / new 517" in output
    assert (tmp_path / "data" / "paperfeed.sqlite3").exists()
