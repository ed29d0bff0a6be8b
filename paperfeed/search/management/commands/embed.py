from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from tqdm import tqdm

from paperfeed.lib.cli_args import non_negative_float, positive_int
from paperfeed.search.indexing import embed_pending, pending_embeddings
from paperfeed.search.service import get_engine


class Command(BaseCommand):
    help = ("Compute sentence embeddings for papers that have none (resumable; "
            "`--loop` keeps following new papers).")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=positive_int, default=64, help="papers per commit")
        parser.add_argument("--limit", type=positive_int, help="stop after this many papers")
        parser.add_argument("--loop", action="store_true", help="keep running, polling for work")
        parser.add_argument("--interval", type=non_negative_float, default=30.0,
                            help="seconds between polls with --loop")

    def handle(self, *args, batch: int, limit: int | None, loop: bool, interval: float,
               **options):
        self.stopping = False

        def stop(signum, frame):
            self.stopping = True

        # Finish the batch in hand on SIGTERM; the caller's handler is back afterwards
        # (``paperfeed serve`` runs this command first and must still stop on SIGTERM).
        previous = signal.signal(signal.SIGTERM, stop)
        try:
            self._run(batch, limit, loop, interval)
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _run(self, batch: int, limit: int | None, loop: bool, interval: float) -> None:
        engine = get_engine()
        while True:
            todo = pending_embeddings(engine.model_name).count()
            if limit is not None:
                todo = min(todo, limit)
            if todo:
                with tqdm(total=todo, desc=f"embedding ({engine.model_name})", unit="paper",
                          file=self.stderr._out, disable=None) as bar:
                    done = 0
                    while done < todo and not self.stopping:
                        step = embed_pending(engine, batch_size=batch,
                                             limit=min(batch, todo - done), progress=bar.update)
                        if not step:
                            break
                        done += step
                self.stdout.write(f"Embedded {done} papers.")
            if not loop or self.stopping:
                return
            for _ in range(int(interval * 10)):
                if self.stopping:
                    return
                time.sleep(0.1)
            # Between rounds, as Django's request cycle would: drop dead connections.
            close_old_connections()
