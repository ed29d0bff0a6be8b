"""What the database can hold, read from the models, checked once per record.

SQLite stores a 5,000-character string in a ``varchar(200)`` and a negative number in
a positive integer column without a word; PostgreSQL refuses both, failing the whole
batch. So every :class:`~paperfeed.papers.records.PaperRecord` is checked where it is
built (``PaperRecord.__post_init__``), against limits taken from the model fields
themselves, and both backends store the same thing — the bulk fast path
(``prepared.py``) and the merge path alike, for every source.

Per field, one of two rules (``docs/ingestion.md`` lists them):

* **reject** the record (the source reports the line or item, naming the field):
  identifiers and links, where a cut value would be a wrong one (arXiv id, the
  source's id, category codes, DOI, licence, URLs, a version's size), any count or
  version number outside the column's range, and a value of the wrong type;
* **shorten** with an ellipsis where a cut is harmless: the display names
  ``organization``, ``submitted_by`` and ``submitter_name`` (an organisation's handle,
  which names a page, is refused instead).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any


class InvalidRecord(ValueError):
    """A record the database cannot store as it is; the message names the field."""


_TEXT = ("source", "original_id", "title", "abstract", "pdf_url", "code_url", "project_url",
         "organization", "organization_handle", "submitted_by", "submitter_name", "ai_summary",
         "journal_ref", "doi", "arxiv_comments", "license")
_OPTIONAL_TEXT = ("arxiv_id",)
_TEXT_LISTS = ("authors", "categories", "ai_keywords")
_DATES = ("published_on", "updated_on", "feed_date")
_SHORTENED = ("organization", "submitted_by", "submitter_name")


@cache
def _limits() -> tuple[dict[str, int], dict[str, tuple[int, int]], int, int, tuple[int, int]]:
    """(record field -> max length, record field -> (least, most), category code length,
    version size length, version number range), from the models."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from paperfeed.papers.models import Category, Paper, PaperVersion, SourceRecord

    def length(model, name: str) -> int:
        return model._meta.get_field(name).max_length

    def span(model, name: str) -> tuple[int, int]:
        # The same range on both backends (SQLite would take anything).
        kind = model._meta.get_field(name).get_internal_type()
        return BaseDatabaseOperations.integer_field_ranges[kind]

    lengths = {"source": length(SourceRecord, "source"),
               "original_id": length(SourceRecord, "original_id"),
               **{name: length(Paper, name) for name in (
                   "arxiv_id", "pdf_url", "code_url", "project_url", "doi", "license",
                   "organization", "organization_handle", "submitted_by", "submitter_name")}}
    ranges = {"upvotes": span(Paper, "upvotes_imported"),
              "num_comments": span(Paper, "comments_imported"),
              "github_stars": span(Paper, "github_stars"),
              "author_count": span(Paper, "author_count"),
              "version": span(Paper, "latest_version")}
    return (lengths, ranges, length(Category, "code"), length(PaperVersion, "size"),
            span(PaperVersion, "version"))


def _kind(value: Any) -> str:
    return type(value).__name__


def check(record: Any) -> dict[str, Any]:
    """Raise :class:`InvalidRecord`, or return the fields to shorten (``{}`` mostly)."""
    lengths, ranges, code_length, size_length, version_range = _limits()
    get = record.__dict__
    for name in _TEXT:
        if not isinstance(get[name], str):  # str subclasses too (Source choices)
            raise InvalidRecord(f"{name!r} is a {_kind(get[name])}, not text")
    for name in _OPTIONAL_TEXT:
        if get[name] is not None and not isinstance(get[name], str):
            raise InvalidRecord(f"{name!r} is a {_kind(get[name])}, not text")
    for name in _TEXT_LISTS:
        values = get[name]
        try:
            # join() checks every item is a string, in C (a generator took 10x longer).
            if type(values) not in (tuple, list):
                raise TypeError
            "".join(values)
        except TypeError:
            raise InvalidRecord(f"{name!r} is not a list of texts") from None
    for name in _DATES:
        value = get[name]
        if value is not None and type(value) is not dt.date:
            raise InvalidRecord(f"{name!r} is a {_kind(value)}, not a date")
    if get["author_participating"] not in (None, True, False):
        raise InvalidRecord(f"'author_participating' is a {_kind(get['author_participating'])}, "
                            f"not true or false")
    for name, (least, most) in ranges.items():
        value = get[name]
        if value is None:
            continue
        if type(value) is not int:
            raise InvalidRecord(f"{name!r} is a {_kind(value)}, not a whole number")
        if not least <= value <= most:
            raise InvalidRecord(f"{name!r} is {_short_number(value)}, outside {least}..{most}")
    shortened = {}
    for name, most in lengths.items():
        value = get[name]
        if value and len(value) > most:
            if name in _SHORTENED:
                shortened[name] = value[: most - 1].rstrip() + "…"
            else:
                raise InvalidRecord(f"{name!r} is {len(value):,} characters, longer than the "
                                    f"{most} it may have ({value[:40]!r}…)")
    for code in get["categories"]:
        if len(code) > code_length:
            raise InvalidRecord(f"category {code[:40]!r}… is {len(code)} characters, longer "
                                f"than the {code_length} a category code may have")
    least, most = version_range
    for version in get["versions"]:
        if type(version.version) is not int or not least <= version.version <= most:
            raise InvalidRecord(f"version {_short_number(version.version)} is not a whole "
                                f"number in {least}..{most}")
        if len(version.size) > size_length:
            raise InvalidRecord(f"version {version.version}'s size is {len(version.size)} "
                                f"characters, longer than {size_length}")
    return shortened


def _short_number(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} digits)"
