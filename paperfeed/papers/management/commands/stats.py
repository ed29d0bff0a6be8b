from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db.models import Count

from paperfeed.papers.models import Paper, SourceRecord


class Command(BaseCommand):
    help = "Print counts of papers, feed days and source records."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        papers = Paper.objects.all()
        data = {
            "papers": papers.count(),
            "days": papers.in_feed().values("feed_date").distinct().count(),
            "visible": papers.visible().count(),
            "with_arxiv_id": papers.filter(arxiv_id__isnull=False).count(),
            "latest_day": (d.isoformat() if (d := papers.latest_feed_day()) else None),
            "sources": dict(
                SourceRecord.objects.values_list("source").annotate(n=Count("id")).order_by("source")
            ),
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        for key, value in data.items():
            self.stdout.write(f"{key:>14}: {value}")
