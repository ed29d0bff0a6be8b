"""``paperfeed thumbnails``: render page 1 of recent feed papers' PDFs (``--loop``: forever).

Safe to run on several hosts at once: each paper is claimed by exactly one worker. SIGTERM
and SIGINT finish the paper under way, then exit.
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from paperfeed import conf
from paperfeed.sources.http import PoliteClient
from paperfeed.thumbnails import worker
from paperfeed.thumbnails.models import Thumbnail


class Command(BaseCommand):
    help = ("Fetch the PDFs of recent feed papers and render their first pages as "
            "thumbnails; --loop to keep going.")

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running until SIGTERM")
        parser.add_argument("--interval", type=float, default=None,
                            help="seconds to sleep when idle (PAPERFEED_THUMBNAIL_INTERVAL)")
        parser.add_argument("--limit", type=int, default=None,
                            help="stop after this many papers (per round with --loop)")
        parser.add_argument("--status", action="store_true",
                            help="count thumbnails by state, list recent failures, and exit")

    def handle(self, *args, loop: bool, interval: float | None, limit: int | None,
               status: bool, **options):
        self.verbosity = options["verbosity"]
        if status:
            return self._status()
        interval = conf.value("PAPERFEED_THUMBNAIL_INTERVAL") if interval is None else interval
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        name = worker.worker_name()
        # One client for the process's life: its delay holds across rounds too.
        client = PoliteClient()
        try:
            while True:
                # Long-lived process: drop connections the database may have closed.
                close_old_connections()
                outcomes = worker.run_once(client=client, limit=limit, worker=name,
                                           stopping=stop.is_set, report=self._report)
                if outcomes.total():
                    self.stdout.write("thumbnails: " + ", ".join(
                        f"{kind} {count}" for kind, count in sorted(outcomes.items())))
                close_old_connections()
                if not loop or stop.wait(interval if not outcomes.total() else 0):
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("thumbnails worker stopped" if loop else "thumbnails: done")

    def _report(self, row: Thumbnail, outcome: str) -> None:
        if self.verbosity > 1 or outcome != "done":
            reason = Thumbnail.objects.filter(pk=row.pk).values_list("reason", flat=True).first()
            self.stdout.write(f"paper {row.paper_id}: {outcome}" + (f" — {reason}" if reason else ""))

    def _status(self) -> None:
        from django.db.models import Count

        counts = dict(Thumbnail.objects.values_list("state").annotate(n=Count("pk")))
        self.stdout.write(", ".join(f"{state} {counts.get(state, 0)}"
                                    for state in Thumbnail.State.values))
        for row in (Thumbnail.objects.filter(state__in=("retry", "failed"))
                    .order_by("-updated_at")[:20]):
            self.stdout.write(f"paper {row.paper_id}: {row.state} after {row.attempts} "
                              f"attempt(s) — {row.reason}")
