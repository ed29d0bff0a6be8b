from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from paperfeed.lib.cli_args import non_negative_int, positive_int
from paperfeed.papers.models import Paper
from paperfeed.search.engine import MODES
from paperfeed.search.service import search_papers


class Command(BaseCommand):
    help = "Search papers from the command line and print ranked ids, titles and scores."

    def add_arguments(self, parser):
        parser.add_argument("query", help='e.g. \'graph "neural network" -survey year:2024\'')
        parser.add_argument("--mode", choices=MODES, default="hybrid")
        parser.add_argument("--limit", type=positive_int, default=10)
        parser.add_argument("--offset", type=non_negative_int, default=0)
        parser.add_argument("--json", action="store_true", help="one JSON object")

    def handle(self, *args, query: str, mode: str, limit: int, offset: int, json: bool,
               **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        results = search_papers(query, mode=mode, limit=limit, offset=offset)
        papers = Paper.objects.only("id", "title", "arxiv_id", "slug").in_bulk(
            [h.paper_id for h in results.hits])
        rows = [{"id": h.paper_id, "public_id": papers[h.paper_id].public_id,
                 "title": papers[h.paper_id].title, "score": round(h.score, 6)}
                for h in results.hits if h.paper_id in papers]
        if json:
            self.stdout.write(_dumps({"query": query, "mode": results.mode,
                                      "total": results.total, "message": results.message,
                                      "hits": rows}))
            return
        if results.message:
            self.stdout.write(results.message)
        for rank, row in enumerate(rows, start=offset + 1):
            self.stdout.write(f"{rank:>3}. {row['score']:.4f}  {row['public_id']}  {row['title']}")
        self.stdout.write(f"{results.total} result{'s' if results.total != 1 else ''} "
                          f"({results.mode})")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
