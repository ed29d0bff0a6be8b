from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from paperfeed.papers.merge import MergeStats
from paperfeed.sources import pages
from paperfeed.sources.importing import import_records


class Command(BaseCommand):
    help = (
        "Import listing pages saved from Hugging Face Daily Papers (plain text). "
        "Each file is imported whole or not at all; re-importing changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args, files: list[Path], **options):
        total, failed = MergeStats(), []
        for path in files:
            if not path.is_file():
                self.stderr.write(f"{path}: no such file")
                failed.append(path)
                continue
            try:
                records = pages.read_pages(path)
            except pages.PageFormatError as exc:
                self.stderr.write(f"{exc} (nothing imported from this file)")
                failed.append(path)
                continue
            stats = import_records(records)
            total.add(stats)
            self.stdout.write(f"{path}: {len(records)} papers — {stats.summary()}")
        self.stdout.write(f"Done: {len(files) - len(failed)} of {len(files)} files — {total.summary()}")
        if failed:
            raise CommandError(f"{len(failed)} file(s) could not be imported.", returncode=2)
