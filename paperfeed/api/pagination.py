"""Cursor (keyset) pagination for ``/api/v1/papers``.

An offset re-reads every skipped row and shifts when papers arrive between two pages;
a cursor names the last row seen, so each page is an index range scan and stable.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.db.models import DateField, Q, Value
from django.db.models.functions import Coalesce

from paperfeed.api.http import ApiError
from paperfeed.papers.models import PaperQuerySet

SORTS = ("newest", "upvotes")
# Undated papers sort as the oldest, the same on SQLite and PostgreSQL.
_NO_DATE = dt.date(1, 1, 1)


def encode(sort: str, value, pk: int) -> str:
    raw = json.dumps([sort, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _small_int(value) -> bool:
    # Out-of-range numbers would reach the database as an overflow error (a 500).
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _decode(cursor: str) -> tuple[str, object, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort, value, pk = json.loads(raw)
        if not _small_int(pk) or sort not in SORTS:
            raise ValueError
        if sort == "newest":
            value = dt.date.fromisoformat(value)
        elif not _small_int(value):
            raise ValueError
        return sort, value, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "cursor is not valid: pass back the next_cursor of a previous page.") from None


def ordered(queryset: PaperQuerySet, sort: str) -> PaperQuerySet:
    if sort == "newest":
        queryset = queryset.annotate(
            sort_day=Coalesce("published_on", Value(_NO_DATE), output_field=DateField()))
        return queryset.order_by("-sort_day", "-pk")
    return queryset.order_by("-upvotes", "-pk")


def after(queryset: PaperQuerySet, sort: str, cursor: str) -> PaperQuerySet:
    cursor_sort, value, pk = _decode(cursor)
    if cursor_sort != sort:
        raise ApiError(400, f"cursor belongs to sort={cursor_sort}, not sort={sort}.")
    field = "sort_day" if sort == "newest" else "upvotes"
    return queryset.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk}))


def cursor_for(paper, sort: str) -> str:
    if sort == "newest":
        return encode(sort, (paper.sort_day or _NO_DATE).isoformat(), paper.pk)
    return encode(sort, paper.upvotes, paper.pk)
