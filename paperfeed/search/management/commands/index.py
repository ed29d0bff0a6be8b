from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from paperfeed.search.follower import follower_for, hosts_lag, prune_log
from paperfeed.search.service import get_engine


class Command(BaseCommand):
    help = ("This host's search indexes and the change log they follow: `follow` applies "
            "the log (`--loop` keeps following), `status` shows every host's lag, `compact` "
            "merges vector segments, `prune` drops entries every host has applied.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["follow", "status", "compact", "prune"])
        parser.add_argument("--loop", action="store_true",
                            help="follow: keep following (LISTEN/NOTIFY on PostgreSQL, "
                                 "polling as the fallback) until SIGTERM or Ctrl+C")
        parser.add_argument("--interval", type=float,
                            help="follow --loop: seconds between polls (default "
                                 "PAPERFEED_SEARCH_FOLLOW_INTERVAL)")

    def handle(self, *args, action: str, loop: bool, interval: float | None, **options):
        if loop and action != "follow":
            raise CommandError("--loop goes with `follow` only")
        if interval is not None and interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        getattr(self, f"_{action}")(loop, interval)

    def _follow(self, loop: bool, interval: float | None) -> None:
        follower = follower_for(get_engine())
        if not loop:
            applied = follower.catch_up()
            self.stdout.write(f"Applied the change log to {follower.directory}: "
                              f"{applied} papers.")
            return
        stopping = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stopping.set())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        self.stdout.write(f"Following the change log into {follower.directory}.")
        self.stdout.flush()
        try:
            run_follower(follower, stopping, interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _status(self, loop: bool, interval: float | None) -> None:
        hosts = hosts_lag()
        if not hosts:
            self.stdout.write("No host follows the change log yet "
                              "(run `paperfeed index follow`).")
            return
        now = timezone.now()
        self.stdout.write(f"{'behind':>8} {'lag (s)':>9} {'last seen':>12}  host")
        for host in hosts:
            seen = f"{(now - host.seen_at).total_seconds():.0f} s ago" if host.seen_at else "-"
            self.stdout.write(f"{host.behind:>8} {host.lag_seconds:>9.1f} {seen:>12}  "
                              f"{host.name}")

    def _compact(self, loop: bool, interval: float | None) -> None:
        vectors = get_engine().vectors
        steps = 0
        while vectors.compact():
            steps += 1
        self.stdout.write(f"Merged vector segments {steps} times.")

    def _prune(self, loop: bool, interval: float | None) -> None:
        self.stdout.write(f"Pruned {prune_log()} change-log entries.")


def run_follower(follower, stopping: threading.Event, interval: float | None = None) -> None:
    """Follow until ``stopping`` is set, compacting vector segments in the background."""
    compacting: list[threading.Thread] = []

    def compact_when_due() -> None:
        if compacting and compacting[0].is_alive():
            return
        vectors = follower.engine.vectors
        if vectors.needs_compaction():
            thread = threading.Thread(target=lambda: _compact_all(vectors),
                                      name="vector-compaction", daemon=True)
            compacting[:] = [thread]
            thread.start()

    follower.follow(stopping.is_set, interval=interval, after_round=compact_when_due)
    for thread in compacting:
        thread.join()


def _compact_all(vectors) -> None:
    while vectors.compact():
        pass
