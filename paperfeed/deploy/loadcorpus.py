"""The corpus `paperfeed bench load` serves: N real-looking papers in PostgreSQL with
feed days of 100-3,000 papers, imported upvotes, members' votes and comments.

Papers come from ``paperfeed bench ingest``'s generator (real arXiv listing records,
streamed through the Kaggle importer with its search index); the rest is written in bulk
SQL, with each paper's counters set from the rows they count. Runs in a child process
whose DATABASE_URL and PAPERFEED_DATA_DIR the parent chose; a corpus already built (a
marker row) is reused.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import time
from pathlib import Path

MEMBERS = 2000


def build(papers: int, shared: Path, seed: int = 14) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from paperfeed.papers.models import Paper

    call_command("migrate", verbosity=0)
    have = Paper.objects.count()
    if have >= papers:
        with connection.cursor() as cursor:
            verify_members(cursor)
        return {"reused": True, "papers": have}
    from paperfeed.sources import kaggle
    from paperfeed.sources.bench import kaggle_lines

    start = time.perf_counter()
    stream = io.BytesIO(b"".join(kaggle_lines(shared, papers - have)))
    kaggle.ingest_stream(stream, name="bench-load", batch_size=2000)
    ingest_seconds = time.perf_counter() - start
    rng = random.Random(seed)
    with connection.cursor() as cursor:
        _feed_days(cursor, rng)
        cursor.execute("UPDATE papers_paper SET upvotes_imported = "
                       "floor(power(random(), 6) * 300)::int")
        _members_votes_comments(cursor, rng)
        # The planner needs statistics of the rewritten rows (feed days, counters): with
        # autovacuum off, as on these machines, /api/daily_papers' newest-day query
        # scanned all 1M papers (3.6 s) instead of one day (2.5 ms).
        cursor.execute("ANALYZE")
    from paperfeed.papers import trending

    trending.refresh()
    return {"reused": False, "papers": Paper.objects.count(), "ingest_seconds": ingest_seconds,
            "seconds": time.perf_counter() - start}


def _feed_days(cursor, rng: random.Random) -> None:
    """Newest papers on the latest day (today), each day 100-3,000 papers, going back."""
    cursor.execute("SELECT id FROM papers_paper ORDER BY id DESC")
    ids = [row[0] for row in cursor.fetchall()]
    day, at = dt.date.today(), 0
    while at < len(ids):
        size = rng.randint(100, 3000) if day.weekday() < 5 else rng.randint(100, 400)
        chunk = ids[at:at + size]
        cursor.execute("UPDATE papers_paper SET feed_date = %s WHERE id BETWEEN %s AND %s",
                       [day, min(chunk), max(chunk)])
        at += size
        day -= dt.timedelta(days=1)


def _members_votes_comments(cursor, rng: random.Random) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    users = get_user_model()
    password = make_password("bench-password-14")
    users.objects.bulk_create([users(username=f"reader{n}", email=f"reader{n}@example.org",
                                     password=password) for n in range(MEMBERS)],
                              ignore_conflicts=True, batch_size=1000)
    verify_members(cursor)
    # Votes: most on recent days' papers, as on the site; comments on a few papers.
    cursor.execute("SELECT min(id), max(id) FROM auth_user")
    low_user, high_user = cursor.fetchone()
    cursor.execute("""
        INSERT INTO community_vote (user_id, paper_id, created_at)
        SELECT DISTINCT ON (u, p) u, p, now() FROM (
            SELECT %s + floor(random() * %s)::int AS u, id AS p
            FROM papers_paper, generate_series(1, 3)
            WHERE feed_date >= (SELECT max(feed_date) - 30 FROM papers_paper)
              AND random() < 0.3) picks
        ON CONFLICT DO NOTHING""", [low_user, high_user - low_user + 1])
    cursor.execute("""
        INSERT INTO community_comment (paper_id, author_id, body, body_html, created_at,
                                       deleted, hidden, hidden_reason)
        SELECT id, %s + floor(random() * %s)::int, 'A comment from the load benchmark.',
               '<p>A comment from the load benchmark.</p>', now(), false, false, ''
        FROM papers_paper, generate_series(1, 2) WHERE random() < 0.05""",
                   [low_user, high_user - low_user + 1])
    recount(cursor)


def verify_members(cursor) -> None:
    """The bench's members have confirmed their e-mail (else the site refuses their votes).

    Also run on a reused corpus: those built before this step have members without one.
    """
    cursor.execute("""
        INSERT INTO community_profile (user_id, email_verified_at, bio)
        SELECT id, now(), '' FROM auth_user WHERE username LIKE 'reader%%'
        ON CONFLICT (user_id) DO UPDATE SET email_verified_at = coalesce(
            community_profile.email_verified_at, excluded.email_verified_at)""")


def recount(cursor) -> None:
    cursor.execute("""
        UPDATE papers_paper p SET upvotes_local = coalesce(v.n, 0), comments_local = coalesce(c.n, 0)
        FROM papers_paper q
        LEFT JOIN (SELECT paper_id, count(*) n FROM community_vote GROUP BY paper_id) v
               ON v.paper_id = q.id
        LEFT JOIN (SELECT paper_id, count(*) n FROM community_comment
                   WHERE NOT deleted AND NOT hidden GROUP BY paper_id) c ON c.paper_id = q.id
        WHERE p.id = q.id AND (p.upvotes_local <> coalesce(v.n, 0)
                               OR p.comments_local <> coalesce(c.n, 0))""")


def counters_match(cursor) -> dict:
    """Papers whose counters differ from the rows they count (the soak's check)."""
    cursor.execute("""
        SELECT count(*) FROM papers_paper p
        LEFT JOIN (SELECT paper_id, count(*) n FROM community_vote GROUP BY paper_id) v
               ON v.paper_id = p.id
        WHERE p.upvotes_local <> coalesce(v.n, 0)""")
    votes = cursor.fetchone()[0]
    cursor.execute("""
        SELECT count(*) FROM papers_paper p
        LEFT JOIN (SELECT paper_id, count(*) n FROM community_comment
                   WHERE NOT deleted AND NOT hidden GROUP BY paper_id) c ON c.paper_id = p.id
        WHERE p.comments_local <> coalesce(c.n, 0)""")
    return {"vote_counter_mismatches": votes, "comment_counter_mismatches": cursor.fetchone()[0]}


def session_cookie(username: str = "reader1") -> str:
    """A signed-in session for the signed-in share of the load."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# Words too common to be what someone searches for on their own.
_STOP = frozenset("""a an and are as at based be by can for from how in into is it its of on or
our over the their this to towards using via we what when which with without new study
approach paper results""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}")


def search_queries(count: int, seed: int = 14) -> list[str]:
    """``count`` queries of 1-3 words taken from the titles of papers picked at random
    (seeded: the same corpus gives the same queries), as readers type them."""
    from paperfeed.papers.models import Paper

    rng = random.Random(seed)
    ids = list(Paper.objects.visible().order_by("id").values_list("id", flat=True))
    picked = rng.sample(ids, min(len(ids), count * 4))
    titles = dict(Paper.objects.filter(pk__in=picked).values_list("id", "title"))
    queries: list[str] = []
    for pk in picked:
        words = [w.lower() for w in _WORD.findall(titles.get(pk, "")) if w.lower() not in _STOP]
        if not words:
            continue
        size = min(len(words), rng.choice((1, 2, 2, 3)))
        start = rng.randrange(len(words) - size + 1)
        query = " ".join(words[start:start + size])
        if query not in queries:
            queries.append(query)
        if len(queries) == count:
            break
    return queries


def soak_batch(shared: Path, count: int, path: Path) -> list[str]:
    """Write ``count`` Kaggle-format papers that the corpus does not hold yet to ``path``
    (the next records of the same generator); their arXiv ids."""
    import itertools
    import json

    from paperfeed.papers.models import Paper
    from paperfeed.sources.bench import kaggle_lines

    have = Paper.objects.count()
    lines = itertools.islice(kaggle_lines(shared, have + count * 2), have, None)
    chosen: list[bytes] = []
    ids: list[str] = []
    for chunk in iter(lambda: list(itertools.islice(lines, 1000)), []):
        by_id = {json.loads(line)["id"]: line for line in chunk}
        known = set(Paper.objects.filter(arxiv_id__in=list(by_id)).values_list("arxiv_id",
                                                                                flat=True))
        for arxiv_id, line in by_id.items():
            if arxiv_id not in known and len(ids) < count:
                ids.append(arxiv_id)
                chosen.append(line)
        if len(ids) >= count:
            break
    path.write_bytes(b"".join(chosen))
    return ids


SOAK_DOMAIN = "soak.example.org"


def soak_subscribers(count: int, keywords: list[str], seed: int = 14) -> int:
    """``count`` confirmed digest subscribers due now (the previous soak's are removed, so
    each soak's digest run has its own editions to send)."""
    from django.utils import timezone

    from paperfeed.digests.models import Subscriber

    Subscriber.objects.filter(email__endswith="@" + SOAK_DOMAIN).delete()
    rng = random.Random(seed)
    now = timezone.now()
    due = now - dt.timedelta(minutes=1)
    Subscriber.objects.bulk_create([Subscriber(
        email=f"reader{n}@{SOAK_DOMAIN}", status=Subscriber.Status.ACTIVE, time_zone="UTC",
        send_hour=now.hour, next_send_at=due, confirmed_at=due,
        keywords=rng.sample(keywords, k=min(len(keywords), rng.randint(1, 3))))
        for n in range(count)], batch_size=1000)
    return count


def check_soak(expected: dict) -> dict:
    """After the soak: is every write the site accepted in the database, every ingested
    paper there, every counter equal to its rows, and what did the digest run record?"""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count

    from paperfeed.community.models import Comment, Vote
    from paperfeed.digests.models import Delivery
    from paperfeed.papers.models import Paper

    users = dict(get_user_model().objects.filter(username__in=list(expected["votes"]))
                 .values_list("username", "id"))
    wrong_votes = 0
    for username, wishes in expected["votes"].items():
        have = set(Vote.objects.filter(user_id=users.get(username), paper_id__in=[
            int(pk) for pk in wishes]).values_list("paper_id", flat=True))
        wrong_votes += sum((int(pk) in have) != up for pk, up in wishes.items())
    markers = set(expected["comments"])
    stored = {re.search(r"\((soak-[^)]+)\)", body).group(1) for body in Comment.objects.filter(
        body__contains=f"soak-{expected['run']}-").values_list("body", flat=True)}
    ingested = set(Paper.objects.filter(arxiv_id__in=expected["ingest_ids"])
                   .values_list("arxiv_id", flat=True))
    ledger = dict(Delivery.objects.filter(subscriber__email__endswith="@" + SOAK_DOMAIN)
                  .values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    with connection.cursor() as cursor:
        counters = counters_match(cursor)
    return {"votes_checked": sum(len(w) for w in expected["votes"].values()),
            "votes_wrong": wrong_votes, "comments_missing": len(markers - stored),
            "comments_unexpected": len(stored - markers),
            "ingest_missing": len(set(expected["ingest_ids"]) - ingested),
            "digest_ledger": ledger, **counters}
