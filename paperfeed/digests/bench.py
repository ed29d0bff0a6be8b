"""``paperfeed bench digests``: 100,000 personal digests through a loopback SMTP sink.

Everything runs in a scratch database (a temporary SQLite data dir, or with
``--database-url`` a separate PostgreSQL database that is created and dropped), so the
benchmark never touches the site's own data. The sender is the real ``paperfeed
senddigests`` in its own process; the sink is aiosmtpd in another, counting messages.

Baseline, measured in the same run against the same sink: building N of the same digests
(the selection and rendering alone), and sending their finished bytes over one raw
smtplib connection (the ceiling the sink and loopback allow). The sender's rate is
reported next to them, as a ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paperfeed.digests import scratch
from paperfeed.lib.benchmarks import write_section

NAME = "digests"
HELP = "Send personal digests to N subscribers through a loopback SMTP sink; write the rate."


def add_arguments(parser) -> None:
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--baseline-messages", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="Digests per claimed batch (default PAPERFEED_DIGEST_BATCH_SIZE).")
    parser.add_argument("--workers", type=int, default=1,
                        help="How many `paperfeed senddigests` processes to run at once.")
    parser.add_argument("--database-url", default=None,
                        help="A PostgreSQL server to use (a scratch database is created on it).")
    parser.add_argument("--no-write", action="store_true", help="Print, but leave docs/benchmarks.md alone.")


def _start_sink(workdir: Path) -> tuple[subprocess.Popen, int, Path]:
    count_file = workdir / "sink-count"
    sink = subprocess.Popen([sys.executable, "-m", "paperfeed.digests.smtpsink", "--count-file",
                             str(count_file)], stdout=subprocess.PIPE, text=True)
    port = int(sink.stdout.readline())
    return sink, port, count_file


def _stop_sink(sink: subprocess.Popen, count_file: Path) -> int:
    sink.terminate()
    sink.wait(timeout=60)
    return int(count_file.read_text())


def run(options: dict, stdout) -> int:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        stdout.write("paperfeed bench digests needs aiosmtpd: pip install -e '.[test]'\n")
        return 2
    count = options["subscribers"]
    workdir = Path(tempfile.mkdtemp(prefix="pf-bench-digests-"))
    pg_name = "paperfeed_bench_digests"
    if options["database_url"]:
        env = scratch.postgres_env(options["database_url"], pg_name)
        backend = "PostgreSQL"
    else:
        env = scratch.sqlite_env(str(workdir))
        backend = "SQLite (WAL)"
    env["PAPERFEED_LOG_LEVEL"] = "ERROR"
    env.setdefault("PAPERFEED_SECRET_KEY", "bench-digests")
    if options["batch_size"]:
        env["PAPERFEED_DIGEST_BATCH_SIZE"] = str(options["batch_size"])
    sink = None
    try:
        stdout.write(f"setting up {count:,} subscribers in {workdir}\n")
        scratch.command("migrate", "--verbosity", "0", env=env, timeout=600)
        scratch.helper("seed", str(count), env=env)
        sink, port, count_file = _start_sink(workdir)
        baseline = json.loads(scratch.helper("baseline", str(options["baseline_messages"]), str(port),
                                             env=env))
        env.update(PAPERFEED_SMTP_HOST="127.0.0.1", PAPERFEED_SMTP_PORT=str(port))
        workers = options["workers"]
        stdout.write(f"sending with {workers} paperfeed senddigests process(es)\n")
        started = time.perf_counter()
        load_before = os.getloadavg()[0]
        senders = [subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "senddigests"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                   for _ in range(workers)]
        results = [_wait4(sender) for sender in senders]
        status = max(abs(code) for _, code, _ in results)
        peak_rss_mib = max(usage.ru_maxrss for _, _, usage in results) / 1024
        elapsed = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        received = _stop_sink(sink, count_file) - baseline["messages"]
        sink = None
        if status != 0:
            errors = "".join(sender.stderr.read().decode()[-2000:] for sender in senders)
            stdout.write(f"senddigests failed: {errors}\n")
            return 1
        states = json.loads(scratch.helper("counts", env=env))
    finally:
        if sink is not None:
            sink.kill()
        if options["database_url"]:
            scratch.drop_postgres(options["database_url"], pg_name)
        shutil.rmtree(workdir, ignore_errors=True)

    rate = count / elapsed
    build_rate = baseline["messages"] / baseline["build_seconds"]
    raw_rate = baseline["messages"] / baseline["send_seconds"]
    rows = [
        "| what | digests/s | vs raw SMTP |",
        "|---|---:|---:|",
        f"| raw SMTP: the same messages' bytes, one smtplib connection (baseline, {baseline['messages']:,}) "
        f"| {raw_rate:,.0f} | 1.00 |",
        f"| building only: selection + rendering, no SMTP, no ledger ({baseline['messages']:,}) "
        f"| {build_rate:,.0f} | {build_rate / raw_rate:.2f} |",
        f"| **`paperfeed senddigests`** × {workers}: schedule, claim, build, SMTP, ledger ({count:,}) "
        f"| **{rate:,.0f}** | {rate / raw_rate:.2f} |",
    ]
    markdown = "\n".join([
        "## Digests: `paperfeed bench digests`",
        "",
        f"{count:,} subscribers with personal topics (keywords, categories, authors drawn from the "
        f"demo corpus), daily digests of up to 10 papers, {backend}, sent to an aiosmtpd sink on "
        f"loopback in its own process. Average message {baseline['bytes'] / baseline['messages'] / 1024:.1f} KiB.",
        "",
        *rows,
        "",
        f"- all {count:,} sent in **{elapsed:,.0f} s** ({elapsed / 60:.1f} min; target: under 10 min); "
        f"peak RSS of a sender **{peak_rss_mib:.0f} MiB**",
        f"- the sink received {received:,} digests; ledger: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(states.items())),
        f"- machine load (1-minute load average, other work included) {load_before:.1f} at the start, "
        f"{load_after:.1f} at the end: on a shared machine the rates are lower bounds",
        f"- reproduce: `paperfeed bench digests --subscribers {count} --workers {workers}`",
    ])
    stdout.write(markdown + "\n")
    if received != count or states.get("sent") != count:
        stdout.write("MISMATCH: not every subscriber got exactly one digest\n")
        return 1
    if not options["no_write"]:
        write_section(NAME, markdown)
    return 0


def _wait4(process: subprocess.Popen):
    """Wait for ``process``; its pid, exit code and resource usage (its own peak RSS, not ours)."""
    pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return pid, process.returncode, usage
