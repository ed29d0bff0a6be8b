"""Writing benchmark figures to docs/benchmarks.md, each run with the machine it ran on.

Each benchmark owns one section of the file, delimited by HTML comments
``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->``; a new run replaces its section and
leaves the others alone.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import resource
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "benchmarks.md"
# Benchmark data (140k listings, BEIR sets) is too large for the repository; benchmarks read
# it from the shared data folder beside the checkout (its README says where each set came
# from). Tests never do: what they read is in testdata/.
SHARED = Path(os.environ.get("PAPERFEED_SHARED_DIR", REPO.parent / "shared"))


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = "unknown RAM"
    return (f"{cpu}, {os.cpu_count()} cores, {memory}; {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}")


def peak_rss_mb() -> float:
    """This process's own peak resident set size so far, in MiB.

    Linux's high-water mark (VmHWM) where there is one: ``ru_maxrss`` is carried over
    ``fork``/``exec``, so a benchmark's child process would report its parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (f"<!-- bench:{name} -->\n{markdown.rstrip()}\n\n"
            f"*Measured {stamp} on {machine_description()}.*\n<!-- /bench:{name} -->")
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text if text.endswith("\n") else text + "\n")
