"""``paperfeed worker``: run the daily ingestion jobs that are due (``--loop``: forever).

Run one per machine (or several: each due run is claimed by exactly one worker). SIGTERM
and SIGINT finish the job under way, then exit; nothing runs in a web process.
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from paperfeed import conf
from paperfeed.lib.cli_args import non_negative_float
from paperfeed.papers import trending
from paperfeed.sources import jobs
from paperfeed.sources.models import ScheduledJob


class Command(BaseCommand):
    help = "Run the due daily jobs (arXiv RSS, Hugging Face daily papers); --loop to keep going."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running until SIGTERM")
        parser.add_argument("--interval", type=non_negative_float, default=None,
                            help="seconds between rounds (PAPERFEED_WORKER_INTERVAL)")
        parser.add_argument("--list", action="store_true", help="show the jobs and exit")

    def handle(self, *args, loop: bool, interval: float | None, list: bool, **options):
        if list:
            jobs.ensure_jobs(timezone.now())
            for row in ScheduledJob.objects.order_by("name"):
                state = {True: "ok", False: "FAILED", None: "never run"}[row.last_ok]
                self.stdout.write(f"{row.name}: next {row.next_run_at:%Y-%m-%d %H:%M} UTC, "
                                  f"last {state} {row.last_message}".rstrip())
            return
        interval = conf.value("PAPERFEED_WORKER_INTERVAL") if interval is None else interval
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while True:
                # Long-lived process: drop connections the database may have closed.
                close_old_connections()
                for result in jobs.run_due():
                    status = "ok" if result.ok else "failed"
                    self.stdout.write(f"{result.name}: {status} — {result.message}")
                if trending.refresh_if_due():
                    self.stdout.write("trending: ranking refreshed")
                close_old_connections()
                if not loop or stop.wait(interval):
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("worker stopped" if loop else "worker: done")
