"""The processes ``paperfeed bench load`` starts: the site, its worker, the soak's ingest
and digest run.

Each writes its output to files of its own, never to a pipe nobody reads until the end: a
process whose pipe fills (64 KB) blocks on its next write, and a web server blocked in its
logging stalls every request behind the lock of the logging handler. The files stay in
the bench's data folder for a look afterwards. Each process's exit is timed when it
happens, not when the bench gets round to asking.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def tail(path: Path, size: int = 3000) -> str:
    """The last ``size`` characters of a log file ("" if there is none)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


@dataclass
class Started:
    name: str
    process: subprocess.Popen
    out: Path
    err: Path
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def __post_init__(self) -> None:
        threading.Thread(target=self._time_exit, name=f"watch-{self.name}", daemon=True).start()

    def _time_exit(self) -> None:
        self.process.wait()
        self.ended = time.monotonic()

    def finish(self, timeout: float) -> dict:
        """Wait up to ``timeout`` s for the exit (then kill it): its exit code, seconds it
        ran, the last line it printed, and its error output's end if it failed."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        ended = self.ended or time.monotonic()
        lines = tail(self.out).strip().splitlines()
        code = self.process.returncode
        return {"exit": code, "seconds": round(ended - self.started),
                "summary": (lines or [""])[-1][:300],
                **({"stderr": tail(self.err, 500)} if code else {})}

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, args: list[str], env: dict, folder: Path) -> Started:
    """Run ``args`` with ``env``, its output in ``folder/<name>.out`` and ``.err``."""
    folder.mkdir(parents=True, exist_ok=True)
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr,
                                   stdin=subprocess.DEVNULL)
    return Started(name, process, out, err)
