"""``paperfeed recommend [--loop]``: store each member's best recent papers.

The stored recommendations feed the personal part of e-mail digests and the private
feed; the "For you" page computes its own, fresh, with the same code. Models are
retrained only for members whose papers changed; recent papers are loaded once per
round and scored for everyone.
"""

from __future__ import annotations

import signal
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import close_old_connections, transaction
from django.db.models import Q
from tqdm import tqdm

from paperfeed.conf import value
from paperfeed.recommend import service
from paperfeed.recommend.models import Recommendation


class Command(BaseCommand):
    help = "Compute and store recommendations for every member with papers or topics."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running, one round every --every seconds")
        parser.add_argument("--every", type=int, default=3600)
        parser.add_argument("--user", help="only this username")

    def handle(self, *args, loop: bool, every: int, user: str | None, **options):
        self._stop = False
        signal.signal(signal.SIGTERM, self._on_term)
        while True:
            close_old_connections()
            self.round(user)
            if not loop or self._stop:
                return
            deadline = time.monotonic() + every
            while time.monotonic() < deadline and not self._stop:
                time.sleep(1)
            if self._stop:
                return

    def _on_term(self, signum, frame):
        self._stop = True  # finish the member being scored, then leave

    def _store(self, members, keep: int, candidates) -> int:
        picks = service.recommend_many(members, limit=keep, candidates=candidates)
        with transaction.atomic():
            Recommendation.objects.filter(user__in=members).delete()
            Recommendation.objects.bulk_create([
                Recommendation(user=member, paper=p.paper, score=p.score, reason="; ".join(p.reasons)[:400])
                for member in members for p in picks[member.pk]
            ])
        return sum(len(picks[m.pk]) for m in members)

    def round(self, username: str | None) -> None:
        users = get_user_model().objects.filter(is_active=True).filter(
            Q(votes__isnull=False) | Q(paper_feedback__isnull=False) | Q(interests__isnull=False)
        ).distinct().order_by("pk")
        if username:
            users = users.filter(username=username)
        candidates = service.Candidates.load()
        keep = value("PAPERFEED_RECOMMEND_KEEP")
        stored, chunk = 0, []
        progress = tqdm(total=users.count(), desc="members", unit="member",
                        disable=not self.stdout.isatty())
        for member in users.iterator():
            chunk.append(member)
            if len(chunk) == 500:
                stored += self._store(chunk, keep, candidates)
                progress.update(len(chunk))
                chunk = []
            if self._stop:
                break
        if chunk and not self._stop:
            stored += self._store(chunk, keep, candidates)
            progress.update(len(chunk))
        progress.close()
        self.stdout.write(f"stored {stored} recommendations for {users.count()} members "
                          f"from {len(candidates.papers)} recent papers")
