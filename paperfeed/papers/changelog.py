"""The change log: an ordered record of which papers changed, for followers on any host.

Every write path of the core (merges, the bulk fast path, curators' status changes,
``save()``/``delete()`` of a paper) calls ``record`` inside its own transaction, so the
log and the papers can never disagree. Followers (the search index of each host) read
the log in order from a position they remember and re-read the papers it names; reading
a paper's *current* row makes applying an entry idempotent, so replaying is always safe.

Ordering across concurrent writers. Autoincrement ids are handed out when a row is
inserted, not when its transaction commits: a transaction that took id 10 may commit
after one that took id 11. A follower reading ``id > last`` right after 11 committed
would move past 10 for good. So on PostgreSQL each entry also stores the id of its
writing transaction (``pg_current_xact_id()``), and readers take only entries whose
transaction is older than the oldest transaction still running
(``pg_snapshot_xmin(pg_current_snapshot())``): every such transaction has ended, and
any transaction that writes later gets a larger id, so nothing can appear behind a
reader's position. Positions are (txid, id) pairs, read in that order. The cost: an
entry becomes readable only when every write transaction that began before it has
ended; a session left "idle in transaction" after writing holds followers back (the
status command shows the lag). We chose this over re-reading a trailing window (a
window long enough for any transaction is unbounded) and over a single-writer lock on
the log (it would serialise every ingest batch across hosts).

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so ids commit in order there;
``txid`` is 0 and positions are (0, id).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from paperfeed.papers.models import ChangeLogHorizon, PaperChange

CHANNEL = "paperfeed_changes"
# A position past every entry of a transaction: (txid, _END).
_END = 2**62


class Position(NamedTuple):
    txid: int
    change_id: int


START = Position(0, 0)


class Entry(NamedTuple):
    position: Position
    paper_ids: list[int]
    created_at: dt.datetime


def record(paper_ids) -> None:
    """Log that these papers changed, in the caller's transaction (the current one)."""
    ids = sorted({int(pk) for pk in paper_ids if pk is not None})
    if not ids:
        return
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(PaperChange._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (txid, paper_ids, created_at) "
                    "VALUES (pg_current_xact_id()::text::bigint, %s::jsonb, now())",
                    [_json(ids)])
                # Delivered at commit, to every listening follower; none if rolled back.
                cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
        else:
            PaperChange.objects.create(paper_ids=ids, created_at=timezone.now())


def _json(ids: list[int]) -> str:
    return "[" + ",".join(map(str, ids)) + "]"


def _safe_bound(cursor) -> tuple[int | None, int | None]:
    """(oldest running transaction, this transaction's own id if it wrote) on PostgreSQL."""
    cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                   "pg_current_xact_id_if_assigned()::text::bigint")
    return cursor.fetchone()


def read_after(position: Position, limit: int = 200) -> list[Entry]:
    """Entries after ``position`` that no running transaction can still precede, in order."""
    table = connection.ops.quote_name(PaperChange._meta.db_table)
    where = "(txid > %s OR (txid = %s AND id > %s))"
    params: list = [position.txid, position.txid, position.change_id]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            xmin, own = _safe_bound(cursor)
            # A transaction reads its own entries too (tests run inside one).
            where += " AND (txid < %s OR txid = %s)"
            params += [xmin, own if own is not None else -1]
        cursor.execute(f"SELECT txid, id, paper_ids, created_at FROM {table} WHERE {where} "
                       "ORDER BY txid, id LIMIT %s", [*params, limit])
        rows = cursor.fetchall()
    return [Entry(Position(txid, pk), _ids(ids), _aware(at)) for txid, pk, ids, at in rows]


def _ids(value) -> list[int]:
    if isinstance(value, str):  # SQLite returns JSON text from a raw query
        import json

        value = json.loads(value)
    return [int(pk) for pk in value]


def _aware(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def current_position() -> Position:
    """A position that every entry committed so far is at or before (for a bootstrap).

    Taken before reading the papers: whatever commits afterwards lies after it, and an
    entry the bootstrap already saw is applied once more, harmlessly.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            xmin, _ = _safe_bound(cursor)
            return Position(xmin - 1, _END)
        cursor.execute(f"SELECT MAX(id) FROM {PaperChange._meta.db_table}")
        (last,) = cursor.fetchone()
        return Position(0, last or 0)


def backlog(position: Position) -> tuple[int, dt.datetime | None]:
    """(entries after ``position``, when the oldest of them was written) — for lag reports."""
    after = PaperChange.objects.filter(txid__gt=position.txid) | PaperChange.objects.filter(
        txid=position.txid, pk__gt=position.change_id)
    count = after.count()
    oldest = after.order_by("created_at").values_list("created_at", flat=True).first()
    return count, oldest


def horizon() -> Position:
    row = ChangeLogHorizon.objects.filter(pk=1).first()
    return Position(row.txid, row.change_id) if row else START


def prune(upto: Position) -> int:
    """Delete entries at or before ``upto`` (every active follower has applied them)."""
    with transaction.atomic():
        row, _ = ChangeLogHorizon.objects.select_for_update().get_or_create(pk=1)
        if (row.txid, row.change_id) < tuple(upto):
            row.txid, row.change_id = upto
            row.save()
        deleted, _ = (PaperChange.objects.filter(txid__lt=upto.txid)
                      | PaperChange.objects.filter(txid=upto.txid,
                                                   pk__lte=upto.change_id)).delete()
    return deleted
