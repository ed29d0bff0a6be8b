"""Cursor (keyset) pagination for ``/api/v1/papers``.

An offset re-reads every skipped row and shifts when papers arrive between two pages;
a cursor names the last row seen, so pages are stable. ``sort=newest`` reads the
``published_on`` index: dated papers first (newest first), then undated ones by id, as
two index-ordered phases rather than one sort over a computed "date or oldest" value,
which the database could only answer by sorting every row on every page.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Q

from paperfeed.api.http import ApiError
from paperfeed.papers.models import Paper, PaperQuerySet

SORTS = ("newest", "upvotes")


CURSOR_PATTERN = r"^\d{1,18}\.\d{1,18}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_UNDATED = 0  # "newest" cursors: day ordinals count from 1, so 0 is the undated phase


def encode(sort: str, value, pk: int) -> str:
    """``<position>.<id>``: the last row's upvotes, or its day as an ordinal (0: no day).

    Plain digits, so the OpenAPI document can say exactly which cursors are well formed
    (a pattern), and any well-formed cursor is a position the server can answer from.
    """
    if sort == "newest":
        value = _UNDATED if value is None else value.toordinal()
    return f"{value}.{pk}"


def _decode(cursor: str, sort: str) -> tuple[object, int]:
    if not _CURSOR.fullmatch(cursor):
        raise ApiError(400, "cursor is not valid: pass back the next_cursor of a previous page.")
    value, pk = (int(part) for part in cursor.split("."))
    if sort == "newest":
        # A hand-made day past the calendar's end reads as its last day.
        value = None if value == _UNDATED else dt.date.fromordinal(min(value, dt.date.max.toordinal()))
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
        value = last.published_on
    else:
        value = last.upvotes
    return rows[:limit], encode(sort, value, last.pk)
