"""Writing the rows of one merge batch as plain tuples: no model instance per row.

``bulk_create`` builds and prepares a model instance per row, field by field; in a
bulk import (a million Kaggle records) that was most of the time, so ``merge.py``
writes papers, versions, category links and provenance rows through here instead.
None of these tables has defaults the database or a ``save()`` would add, or signals,
so plain parameters are equivalent.

PostgreSQL gets ``COPY`` for rows that cannot conflict (new papers and their rows):
one stream per table instead of one ``INSERT`` per row through the pipeline, which
kept PostgreSQL at half of SQLite's rate. SQLite runs in-process, where a prepared
``executemany`` is already cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import DateField, DateTimeField, JSONField

from paperfeed.papers.models import Paper, PaperVersion, SourceRecord

# SQLite caps the parameters of one statement (32,766 since 3.32; 999 before).
_IN_CHUNK = 500


def datetime_adapter() -> Callable[[dt.datetime | None], object]:
    """A datetime (or None) as the database takes it, for many values.

    ``connection.ops`` is a lookup through a context-local proxy on every access, and
    SQLite's adapter reads settings on every call: together they cost more than the
    adapting. This looks both up once and then does what the adapter does.
    """
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return lambda value: adapt(value) if value is not None else None
    tz = connection.timezone
    utc = tz.utcoffset(None) == dt.timedelta(0) if isinstance(tz, dt.timezone) else (
        str(tz) == "UTC")

    def adapt_for_sqlite(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is dt.UTC and utc:  # what sources give, and the usual setting
            return str(value.replace(tzinfo=None))
        if value.utcoffset() is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return str(value)

    return adapt_for_sqlite


class NewPaper:
    """A paper a batch creates: ``Paper``'s attributes and defaults, not a model instance.

    Constructing a ``Paper`` ran every field's descriptor and default (~40 µs); merge
    rules only read and set attributes, so they apply unchanged to this.
    """

    pk: int | None = None

    def __init__(self, slug: str, primary_category_id: str | None):
        if not _DEFAULTS:
            _DEFAULTS.update(
                {
                    f.attname: f.get_default()
                    for f in Paper._meta.concrete_fields
                    if not f.primary_key
                }
            )
        self.__dict__.update(_DEFAULTS)
        # The JSON defaults are lists: each paper gets its own.
        self.authors, self.ai_keywords = [], []
        self.slug = slug
        self.primary_category_id = primary_category_id


_DEFAULTS: dict[str, object] = {}


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def _paper_columns() -> tuple[list[str], list[str], list[tuple[int, object]]]:
    """Every concrete Paper field but the id: attnames, columns, converters by index."""
    attnames, columns, converters = [], [], []
    for f in Paper._meta.concrete_fields:
        if f.primary_key:
            continue
        if isinstance(f, JSONField):
            # What JSONField writes, as compact JSON (orjson: several times faster).
            converters.append((len(attnames), _json_text))
        elif isinstance(f, DateTimeField):
            converters.append((len(attnames), datetime_adapter()))
        elif isinstance(f, DateField):
            converters.append((len(attnames), connection.ops.adapt_datefield_value))
        attnames.append(f.attname)
        columns.append(f.column)
    return attnames, columns, converters


class PaperRows:
    """How a paper becomes a row: every concrete ``Paper`` field but the id, in order."""

    def __init__(self) -> None:
        self.attnames, self.columns, self.converters = _paper_columns()
        self.slug = self.attnames.index("slug")
        self.stamps = (self.attnames.index("created_at"), self.attnames.index("updated_at"))
        # COPY text (PostgreSQL): the id, slug and timestamps first, the rest as ``tail``.
        self.tail = [i for i in range(len(self.attnames)) if i not in (self.slug, *self.stamps)]
        self.copy_columns = ["id", *[self.columns[i] for i in (self.slug, *self.stamps)],
                             *[self.columns[i] for i in self.tail]]

    def row(self, paper: NewPaper | Paper) -> list:
        values = paper.__dict__
        row = [values[name] for name in self.attnames]
        for i, convert in self.converters:
            if row[i] is not None:
                row[i] = convert(row[i])
        return row

    def copy_tail(self, paper: NewPaper | Paper) -> str:
        """The row but its id, slug and timestamps, as COPY text (see ``copy_columns``)."""
        row = self.row(paper)
        return "\t".join([copy_field(row[i]) for i in self.tail])


def copy_field(value: object) -> str:
    """A value as a field of PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        for char, escaped in _COPY_ESCAPES:
            if char in value:
                value = value.replace(char, escaped)
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.date):  # dates and datetimes
        return value.isoformat()
    return str(value)


# The backslash first: the others add backslashes.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def copy_text(model, columns: list[str], text: str) -> None:
    """``COPY`` rows already in COPY text format into ``model``'s table (PostgreSQL)."""
    if not text:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
                                ) as copy:
            copy.write(text)


def next_paper_ids(count: int) -> list[int]:
    """``count`` ids from the papers' sequence (PostgreSQL), to COPY rows with."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Paper._meta.db_table, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def insert_papers(papers: list[NewPaper], now: dt.datetime) -> None:
    """Insert new papers and set their pks."""
    if not papers:
        return
    for paper in papers:
        paper.created_at = paper.updated_at = now
    shape = PaperRows()
    pks = insert_paper_rows(shape, [shape.row(paper) for paper in papers])
    for paper, pk in zip(papers, pks, strict=True):
        paper.pk = paper.id = pk


def insert_paper_rows(shape: PaperRows, rows: list[list]) -> list[int]:
    """Insert rows of new papers (``shape.row``) and return their pks, in order."""
    if connection.vendor == "postgresql":
        # Ids first, so the rows can be COPYed with them.
        pks = next_paper_ids(len(rows))
        insert_rows(Paper, ["id", *shape.columns],
                    [[pk, *row] for pk, row in zip(pks, rows, strict=True)], on_conflict="raise")
        return pks
    insert_rows(Paper, shape.columns, rows, on_conflict="raise")
    # Pks come back by slug, which is unique (the batch holds the write lock).
    by_slug = {slug: pk for pk, slug in values_in(
        Paper, "id, slug", "slug", [row[shape.slug] for row in rows])}
    return [by_slug[row[shape.slug]] for row in rows]


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_rows(model, columns: list[str], rows: list, *, on_conflict: str = "ignore") -> None:
    """INSERT many plain rows; ``on_conflict`` is ``"ignore"`` or ``"raise"``.

    ``ON CONFLICT DO NOTHING`` works on both SQLite (>= 3.24) and PostgreSQL. Rows that
    must not conflict go through ``COPY`` on PostgreSQL (a conflict still raises
    ``IntegrityError`` and rolls the batch back).
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    if on_conflict == "raise" and connection.vendor == "postgresql":
        with connection.cursor() as cursor, connection.wrap_database_errors:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    if on_conflict == "ignore":
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def update_rows(model, set_columns: list[str], rows: list) -> None:
    """``UPDATE … SET columns WHERE id = …`` for rows of (*values, pk)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in set_columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE id = %s", rows
        )


def _in_query(model, select: str, column: str, count: int, where: str) -> str:
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # One array parameter: psycopg parses a query with thousands of placeholders
        # client-side on every call (3 ms per 500 values).
        match = f"{quote(column)} = ANY(%s)"
    else:
        match = f"{quote(column)} IN ({', '.join(['%s'] * count)})"
    return f"SELECT {select} FROM {quote(model._meta.db_table)} WHERE {where}{match}"


def _in_chunks(values: Iterable) -> Iterable[tuple[int, list]]:
    """(count, parameters) per statement: all values at once as an array on PostgreSQL."""
    values = list(values)
    if connection.vendor == "postgresql":
        if values:
            yield len(values), [values]
        return
    for chunk in _chunks(values, _IN_CHUNK):
        yield len(chunk), chunk


def objects_in(model, column: str, values: Iterable, where: str = "", params=()) -> list:
    """Instances whose ``column`` is one of ``values`` (and ``where …AND``), by raw SQL.

    ``filter(column__in=…)`` prepares each of a batch's thousands of values through the
    field's lookup machinery; these values are plain strings already.
    """
    found: list = []
    for count, chunk in _in_chunks(values):
        found += model.objects.raw(_in_query(model, "*", column, count, where),
                                   [*params, *chunk])
    return found


def values_in(model, select: str, column: str, values: Iterable, where: str = "",
              params=()) -> list[tuple]:
    """Rows of ``select`` whose ``column`` is one of ``values`` (see ``objects_in``)."""
    rows: list[tuple] = []
    for count, chunk in _in_chunks(values):
        with connection.cursor() as cursor:
            cursor.execute(_in_query(model, select, column, count, where), [*params, *chunk])
            rows += cursor.fetchall()
    return rows


class PlannerStatistics:
    """Keeps PostgreSQL's planner statistics of the paper tables current in a bulk import.

    PostgreSQL plans from statistics that ``ANALYZE`` (or autovacuum, which some
    servers run with off and which lags behind a fast import anyway) gathers. A table
    that grows from nothing to a million rows within one import keeps the plan of an
    empty one: measured at 1M papers, the lookup of known source records scanned every
    record of the source (235 ms per batch, growing with the table) where its index
    answers in 3 ms. So ``ANALYZE`` runs after the first 10,000 papers written and
    each time the count grows fourfold (a handful of times over millions; ~1.4 s each
    at a million), and once at the end. SQLite plans these lookups well without
    statistics: nothing to do there.
    """

    first, factor = 10_000, 4

    def __init__(self) -> None:
        self.written, self.next = 0, self.first

    def add(self, written: int) -> None:
        self.written += written
        if self.written >= self.next:
            analyze_paper_tables()
            while self.next <= self.written:
                self.next *= self.factor

    def finish(self) -> None:
        if self.written:
            analyze_paper_tables()


def analyze_paper_tables() -> None:
    """``ANALYZE`` the tables a merge writes (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    tables = [Paper, SourceRecord, PaperVersion, Paper.categories.through]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(m._meta.db_table) for m in tables))
