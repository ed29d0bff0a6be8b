from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from paperfeed.papers.announcing import announce_pending
from paperfeed.papers.models import PendingAnnouncement
from paperfeed.search.follower import follower_for
from paperfeed.search.service import get_engine


class Command(BaseCommand):
    help = ("Rebuild the search indexes from the database (keywords, and vectors from the "
            "stored embeddings; run `paperfeed embed` to compute missing embeddings).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--pending", action="store_true",
            help="only catch up on papers changed since a bulk import that was stopped "
                 "before its end (faster than a full rebuild)")

    def handle(self, *args, pending: bool = False, **options):
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="paper",
                                         file=self.stderr._out, disable=None)
            bar.update(done - bar.n)

        if pending:
            done = announce_pending(progress=lambda n, total: progress("keywords", n, total))
            for bar in bars.values():
                bar.close()
            self.stdout.write("Caught up on the stopped imports." if done
                              else "Nothing was pending.")
            return
        started = timezone.now()
        # As a follower's bootstrap: the log position is noted first, and what changed
        # during the rebuild is applied after it.
        follower = follower_for(get_engine())
        follower.catch_up(rebuild=True, progress=progress)
        keywords, vectors = follower.last_bootstrap
        # A full rebuild covers every change made before it began.
        PendingAnnouncement.objects.filter(since__lte=started).delete()
        for bar in bars.values():
            bar.close()
        self.stdout.write(f"Indexed {keywords} papers for keywords and {vectors} vectors.")
