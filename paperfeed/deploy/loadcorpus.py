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
