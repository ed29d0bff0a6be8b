from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from paperfeed.search.indexing import rebuild
from paperfeed.search.service import get_engine


class Command(BaseCommand):
    help = ("Rebuild the search indexes from the database (keywords, and vectors from the "
            "stored embeddings; run `paperfeed embed` to compute missing embeddings).")

    def handle(self, *args, **options):
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="paper",
                                         file=self.stderr._out, disable=None)
            bar.update(done - bar.n)

        keywords, vectors = rebuild(get_engine(), progress=progress)
        for bar in bars.values():
            bar.close()
        self.stdout.write(f"Indexed {keywords} papers for keywords and {vectors} vectors.")
