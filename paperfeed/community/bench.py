"""``paperfeed bench community``: what the community features cost, against baselines
measured in the same run.

* **listing**: rendering a 50-row listing (``/papers/all``) for a signed-in member (vote
  buttons with their state, one query for the member's votes, the session) against the
  same page for an anonymous visitor;
* **votes**: casting an upvote (savepoint, insert under the unique constraint, F() update,
  one transaction) against the bare F() update of the counter alone.

Everything runs inside one transaction that is rolled back, so the database is left as it
was (the demo corpus is loaded inside it when the database has no papers).
"""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.test import Client

from paperfeed.lib.benchmarks import write_section

NAME = "community"
HELP = "Cost of vote buttons on listings and of casting votes, against baselines."


def add_arguments(parser) -> None:
    parser.add_argument("--repeat", type=int, default=15, help="page renders per case")
    parser.add_argument("--votes", type=int, default=300, help="votes cast (and baseline updates)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")


class _Rollback(Exception):
    pass


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm caches and templates
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _measure(options) -> dict:
    from paperfeed.community.votes import set_vote
    from paperfeed.papers.models import Paper

    if not Paper.objects.exists():
        from paperfeed.sources.demo import load_demo_corpus

        load_demo_corpus()
    papers = list(Paper.objects.visible().order_by("pk")[: options["votes"]])
    user = get_user_model().objects.create_user("bench-voter", "bench@example.org", None)
    for paper in papers[::3]:  # a member who upvoted a third of what they see
        set_vote(user, paper, True)

    def page(client: Client):
        response = client.get("/papers/all?sort=upvotes")
        assert response.status_code == 200, response.status_code
        return response

    anonymous, member = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    member.force_login(user)
    anon_ms = _median_ms(lambda: page(anonymous), options["repeat"])
    member_ms = _median_ms(lambda: page(member), options["repeat"])

    voter = get_user_model().objects.create_user("bench-voter-2", "bench2@example.org", None)
    start = time.perf_counter()
    for paper in papers:
        set_vote(voter, paper, True)
    vote_ms = (time.perf_counter() - start) * 1000 / len(papers)
    start = time.perf_counter()
    for paper in papers:
        with transaction.atomic():
            Paper.objects.filter(pk=paper.pk).update(upvotes_local=F("upvotes_local") + 1)
    bare_ms = (time.perf_counter() - start) * 1000 / len(papers)
    return {"anon_ms": anon_ms, "member_ms": member_ms, "vote_ms": vote_ms,
            "bare_ms": bare_ms, "papers": Paper.objects.count(), "votes": len(papers),
            "repeat": options["repeat"]}


def run(options, stdout) -> int:
    result: dict = {}
    try:
        with transaction.atomic():
            result = _measure(options)
            raise _Rollback
    except _Rollback:
        pass
    r = result
    table = (
        f"## Community (`paperfeed bench community`, {connection.vendor})\n\n"
        f"Database of {r['papers']} papers; medians of {r['repeat']} renders, "
        f"means over {r['votes']} votes. All inside one rolled-back transaction, so each "
        "vote's transaction is a savepoint and no commit (fsync) is timed, on either side."
        "\n\n"
        "| Case | Time | Baseline (same run) | Ratio |\n|---|---|---|---|\n"
        f"| `/papers/all` (50 rows) as a member, with vote state | {r['member_ms']:.1f} ms "
        f"| {r['anon_ms']:.1f} ms anonymous | {r['member_ms'] / r['anon_ms']:.2f}x |\n"
        f"| casting one upvote (`set_vote`) | {r['vote_ms']:.2f} ms | {r['bare_ms']:.2f} ms "
        f"bare counter UPDATE in a transaction | {r['vote_ms'] / r['bare_ms']:.2f}x |\n"
    )
    stdout.write(table)
    if not options.get("no_write"):
        write_section(f"community-{connection.vendor}", table)
    return 0
