"""``paperfeed senddigests``: send the digests that are due, each at most once.

See paperfeed/digests/sender.py for the ledger and docs/digests.md for the guarantee.
"""

from __future__ import annotations

import mailbox
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from paperfeed.digests.emails import digest_message_id
from paperfeed.digests.models import Delivery
from paperfeed.digests.preview import preview_messages
from paperfeed.digests.sender import Sender, resolve_in_doubt
from paperfeed.lib.cli_args import positive_int


class Command(BaseCommand):
    help = ("Send the e-mail digests that are due (once: every send is recorded in a ledger). "
            "With --loop, keep doing it; with --dry-run, only show what would be sent.")

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true",
                            help="Keep running: a round every PAPERFEED_DIGEST_LOOP_SECONDS "
                                 "until SIGTERM/SIGINT.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Build the digests due now without sending or recording anything.")
        parser.add_argument("--to", metavar="FILE.mbox", type=Path,
                            help="With --dry-run: write the messages to this mbox file.")
        parser.add_argument("--batch-size", type=positive_int, default=None,
                            help="Digests per claimed batch (default PAPERFEED_DIGEST_BATCH_SIZE).")
        parser.add_argument("--report-in-doubt", action="store_true",
                            help="List digests that may or may not have been sent, and exit "
                                 "(status 3 when there are any).")
        parser.add_argument("--resolve", type=positive_int, metavar="ID",
                            help="Settle the in-doubt digest ID, with --as sent|resend.")
        parser.add_argument("--as", dest="outcome", choices=["sent", "resend"],
                            help="With --resolve: 'sent' keeps it as sent, 'resend' sends it again.")

    def handle(self, *args, loop=False, dry_run=False, to=None, batch_size=None,
               report_in_doubt=False, resolve=None, outcome=None, **options):
        if to and not dry_run:
            raise CommandError("--to only goes with --dry-run (real digests go to SMTP).")
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if resolve is not None:
            return self._resolve(resolve, outcome)
        if report_in_doubt:
            return self._report()
        if dry_run:
            return self._dry_run(to)
        if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
            # The console backend "sends" by printing: the ledger would record digests as
            # delivered that nobody received.
            raise CommandError(
                "No SMTP server is configured (PAPERFEED_SMTP_HOST is unset), so digests "
                "cannot be delivered. Set PAPERFEED_SMTP_HOST (see docs/digests.md), or preview "
                "them with --dry-run --to FILE.mbox.")
        sender = Sender(**({"batch_size": batch_size} if batch_size else {}))
        if not loop:
            stats = sender.run_once()
            self.stdout.write(stats.summary())
            return
        self._loop(sender)

    def _loop(self, sender: Sender) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stopping:
                close_old_connections()
                stats = sender.run_once()
                if stats.sent or stats.failed or stats.in_doubt or stats.retrying:
                    self.stdout.write(stats.summary())
                # Sleep in short steps so SIGTERM ends the loop promptly, never mid-batch.
                deadline = time.monotonic() + settings.DIGESTS["LOOP_SECONDS"]
                while not stopping and time.monotonic() < deadline:
                    time.sleep(min(1.0, deadline - time.monotonic()))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _dry_run(self, to: Path | None) -> None:
        messages = preview_messages()
        if to:
            box = mailbox.mbox(str(to))
            try:
                box.lock()
                for message in messages:
                    box.add(message.message())
                box.flush()
            finally:
                box.unlock()
                box.close()
        for message in messages:
            self.stdout.write(f"{message.to[0]}\t{message.subject}")
        self.stdout.write(f"{len(messages)} digest(s) would be sent" + (f"; written to {to}" if to else ""))

    def _report(self) -> int | None:
        rows = Delivery.objects.in_doubt().select_related("subscriber").order_by("sending_at")
        count = 0
        for row in rows:
            if not count:
                self.stdout.write("id\taddress\tedition\tsending since (UTC)\tMessage-ID\terror")
            count += 1
            # Rows put in doubt before the Message-ID was stored with "sending" lack it:
            # it is a function of (subscriber, edition), so it can be given all the same.
            message_id = row.message_id or digest_message_id(row.subscriber_id, row.edition)
            self.stdout.write(f"{row.pk}\t{row.subscriber.email}\t{row.edition}\t"
                              f"{row.sending_at:%Y-%m-%d %H:%M:%S}\t{message_id}\t{row.last_error}")
        self.stdout.write(f"{count} digest(s) in doubt" + (
            ": look each Message-ID up in the SMTP server's log, then "
            "`paperfeed senddigests --resolve ID --as sent|resend` (ID: the first column)"
            if count else ""))
        if count:
            raise SystemExit(3)
        return None

    def _resolve(self, pk: int, outcome: str | None) -> None:
        if outcome is None:
            raise CommandError("--resolve needs --as sent or --as resend.")
        try:
            delivery = resolve_in_doubt(pk, outcome)
        except Delivery.DoesNotExist as exc:
            raise CommandError(f"no in-doubt digest with id {pk}") from exc
        self.stdout.write(f"digest {delivery.pk} is now {delivery.state}")
