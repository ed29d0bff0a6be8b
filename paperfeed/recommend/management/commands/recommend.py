"""``paperfeed recommend [--loop]``: store each member's best recent papers.

The stored recommendations feed the personal part of e-mail digests and the private
feed; the "For you" page computes its own, fresh, with the same code. Models are
retrained only for members whose papers changed; recent papers are loaded once per
round and scored for everyone.
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import close_old_connections, transaction
from django.db.models import Q
from tqdm import tqdm

from paperfeed.conf import value
from paperfeed.lib.cli_args import positive_int
from paperfeed.recommend import service
from paperfeed.recommend.models import Recommendation, UserModelState


class Command(BaseCommand):
    help = "Compute and store recommendations for every member with papers or topics."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running, one round every --every seconds")
        parser.add_argument("--every", type=positive_int, default=3600)
        parser.add_argument("--user", help="only this username")
        parser.add_argument("--full", action="store_true",
                            help="rescore the whole window for everyone (picks up papers that "
                                 "arrived late for earlier days)")

    def handle(self, *args, loop: bool, every: int, user: str | None, full: bool, **options):
        self.full = full
        self._stop = False
        signal.signal(signal.SIGTERM, self._on_term)
        while True:
            self.round(user)
            if not loop or self._stop:
                return
            deadline = time.monotonic() + every
            while time.monotonic() < deadline and not self._stop:
                time.sleep(1)
            if self._stop:
                return
            # Between rounds only: a long-lived worker must not keep a connection the
            # database (or CONN_MAX_AGE) has given up on.
            close_old_connections()

    def _on_term(self, signum, frame):
        self._stop = True  # finish the member being scored, then leave

    def _store(self, members, keep: int, candidates) -> int:
        """Recommendations for a chunk of members, scoring only what is new where we can.

        A member whose papers and topics are unchanged since the last round, and whose
        stored picks still reach into the window, only needs the papers that entered the
        feed since: scores are on a fixed per-member scale, so new and stored picks
        compare directly. Everyone else is scored over the whole window.
        """
        span = candidates.span
        if span is None:
            return 0
        states = {s.user_id: s for s in UserModelState.objects.filter(user__in=members)}
        signatures = {m.pk: service.recommendation_signature(m) for m in members}
        full, incremental = [], defaultdict(list)
        for member in members:
            state = states.get(member.pk)
            if (not self.full and state and state.scored_through
                    and state.scored_signature == signatures[member.pk]
                    and state.scored_through >= span[0] - dt.timedelta(days=1)):
                incremental[state.scored_through].append(member)
            else:
                full.append(member)
        picks = service.recommend_many(full, limit=keep, candidates=candidates) if full else {}
        for through, group in incremental.items():
            fresh = service.recommend_many(group, limit=keep, candidates=candidates.newer_than(through))
            kept = defaultdict(list)
            rows = (Recommendation.objects.filter(user__in=group, paper__feed_date__gte=span[0])
                    .select_related("paper"))
            for row in rows:
                kept[row.user_id].append(service.Recommended(row.paper, row.score, row.reason.split("; ")))
            for member in group:
                merged = {r.paper.pk: r for r in kept[member.pk]}
                merged.update({r.paper.pk: r for r in fresh[member.pk]})
                picks[member.pk] = sorted(merged.values(), key=lambda r: (-r.score, r.paper.pk))[:keep]
            self.incremental += len(group)
        with transaction.atomic():
            Recommendation.objects.filter(user__in=members).delete()
            Recommendation.objects.bulk_create([
                Recommendation(user=member, paper=p.paper, score=p.score, reason="; ".join(p.reasons)[:400])
                for member in members for p in picks[member.pk]
            ])
            for member in members:
                # The newest feed day the stored picks cover (not the window's end, which
                # may be a day with no papers yet).
                UserModelState.objects.filter(user=member).update(
                    scored_through=candidates.through, scored_signature=signatures[member.pk])
        return sum(len(picks[m.pk]) for m in members)

    def round(self, username: str | None) -> None:
        users = get_user_model().objects.filter(is_active=True).filter(
            Q(votes__isnull=False) | Q(paper_feedback__isnull=False) | Q(interests__isnull=False)
        ).distinct().order_by("pk")
        if username:
            users = users.filter(username=username)
        candidates = service.Candidates.load()
        keep = value("PAPERFEED_RECOMMEND_KEEP")
        stored, chunk, self.incremental = 0, [], 0
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
                          f"from {len(candidates.papers)} recent papers "
                          f"({self.incremental} scored on new papers only)")
