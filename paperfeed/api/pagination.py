"""Cursor (keyset) pagination for ``/api/v1/papers``.

An offset re-reads every skipped row and shifts when papers arrive between two pages;
a cursor names the last row seen, so pages are stable. ``sort=newest`` reads the
``published_on`` index: dated papers first (newest first), then undated ones by id, as
two index-ordered phases rather than one sort over a computed "date or oldest" value,
which the database could only answer by sorting every row on every page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.db.models import Q

from paperfeed.api.http import ApiError
from paperfeed.papers.models import Paper, PaperQuerySet

SORTS = ("newest", "upvotes")


def encode(sort: str, value, pk: int) -> str:
    raw = json.dumps([sort, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _small_int(value) -> bool:
    # Out-of-range numbers would reach the database as an overflow error (a 500).
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _decode(cursor: str, sort: str) -> tuple[object, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, pk = json.loads(raw)
        if not _small_int(pk) or cursor_sort not in SORTS:
            raise ValueError
        if cursor_sort == "newest":
            # None: the cursor is in the undated phase.
            value = None if value is None else dt.date.fromisoformat(value)
        elif not _small_int(value):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "cursor is not valid: pass back the next_cursor of a previous page.") from None
    if cursor_sort != sort:
        raise ApiError(400, f"cursor belongs to sort={cursor_sort}, not sort={sort}.")
    return value, pk


def _by_upvotes(papers: PaperQuerySet, cursor: tuple | None, count: int) -> list[Paper]:
    papers = papers.order_by("-upvotes", "-pk")
    if cursor:
        upvotes, pk = cursor
        papers = papers.filter(Q(upvotes__lt=upvotes) | Q(upvotes=upvotes, pk__lt=pk))
    return list(papers[:count])


def _by_newest(papers: PaperQuerySet, cursor: tuple | None, count: int) -> list[Paper]:
    rows: list[Paper] = []
    day, pk = cursor if cursor else (dt.date.max, None)
    if day is not None:  # still in the dated phase
        dated = papers.filter(published_on__isnull=False).order_by("-published_on", "-pk")
        if cursor:
            dated = dated.filter(Q(published_on__lt=day) | Q(published_on=day, pk__lt=pk))
        rows = list(dated[:count])
        pk = None
    if len(rows) < count:
        undated = papers.filter(published_on__isnull=True).order_by("-pk")
        if pk is not None:
            undated = undated.filter(pk__lt=pk)
        rows += list(undated[:count - len(rows)])
    return rows


def page(papers: PaperQuerySet, sort: str, cursor: str, limit: int) -> tuple[list[Paper], str | None]:
    """``limit`` papers after ``cursor`` (or from the start) and the cursor of the next page."""
    position = _decode(cursor, sort) if cursor else None
    fetch = _by_newest if sort == "newest" else _by_upvotes
    rows = fetch(papers, position, limit + 1)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    if sort == "newest":
        value = last.published_on.isoformat() if last.published_on else None
    else:
        value = last.upvotes
    return rows[:limit], encode(sort, value, last.pk)
