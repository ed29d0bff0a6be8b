"""The bench's processes (deploy/procs.py) write to files: a chatty one never blocks."""

from __future__ import annotations

import sys
import time

from paperfeed.deploy import procs


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_process_writing_more_than_a_pipe_holds_runs_to_its_end(tmp_path):
    # 1 MB on each stream: through an unread pipe (64 KB) this would block for ever.
    chatty = procs.start("chatty", _python(
        "import sys\nfor n in range(16384):\n print('x' * 63)\n print('e' * 63, file=sys.stderr)\n"
        "print('done: 16384 lines')"), {}, tmp_path)
    result = chatty.finish(timeout=60)
    assert result == {"exit": 0, "seconds": 0, "summary": "done: 16384 lines"}
    assert (tmp_path / "chatty.out").stat().st_size > 1_000_000
    assert (tmp_path / "chatty.err").stat().st_size > 1_000_000


def test_the_exit_is_timed_when_it_happens_and_a_failure_shows_its_error(tmp_path):
    failing = procs.start("failing", _python(
        "import sys; print('half way'); sys.exit('the database went away')"), {}, tmp_path)
    time.sleep(2.5)  # the bench asks long after the process ended
    result = failing.finish(timeout=60)
    assert result["exit"] == 1 and result["seconds"] <= 1 and result["summary"] == "half way"
    assert "the database went away" in result["stderr"]


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path):
    stubborn = procs.start("stubborn", _python(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\n"
        "time.sleep(600)"), {}, tmp_path)
    deadline = time.monotonic() + 30
    while "up" not in procs.tail(stubborn.out) and time.monotonic() < deadline:
        time.sleep(0.05)
    stubborn.stop(timeout=1)
    assert stubborn.process.returncode == -9


def test_tail_of_a_missing_file_is_empty(tmp_path):
    assert procs.tail(tmp_path / "never-written.err") == ""
