"""``paperfeed rejected``: the records a source skipped because they could not be read."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from paperfeed.lib.cli_args import positive_int
from paperfeed.sources.models import RejectedRecord


class Command(BaseCommand):
    help = ("List the records an OAI-PMH harvest skipped because they could not be read "
            "(kept as received); --show ID prints one, --delete ID / --clear forgets them.")

    def add_arguments(self, parser):
        parser.add_argument("--source", help="only this source (e.g. arxiv-oai)")
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--show", type=positive_int, metavar="ID",
                          help="print the record as it was received")
        what.add_argument("--delete", type=positive_int, nargs="+", metavar="ID",
                          help="forget these records (after fixing or re-harvesting them)")
        what.add_argument("--clear", action="store_true", help="forget every listed record")

    def handle(self, *args, source: str | None, show: int | None, delete: list[int] | None,
               clear: bool, **options):
        rows = RejectedRecord.objects.all()
        if source:
            rows = rows.filter(source=source)
        if show is not None:
            row = rows.filter(pk=show).first()
            if row is None:
                raise CommandError(f"no rejected record {show}", returncode=2)
            self.stdout.write(f"{row.where}\n{row.message}\n\n{row.content}")
            return
        if delete or clear:
            if delete:
                rows = rows.filter(pk__in=delete)
            count, _ = rows.delete()
            self.stdout.write(f"forgot {count} rejected record(s)")
            return
        for row in rows:
            self.stdout.write(f"{row.pk}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.source}\t"
                              f"{row.identifier or '-'}\t{row.message}")
        self.stdout.write(f"{rows.count()} rejected record(s)")
