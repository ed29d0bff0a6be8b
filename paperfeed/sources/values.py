"""Reading a source's values safely: records within the database's limits, JSON fields
of the type they should have, JSON of bounded depth.

Every source builds its records through :func:`record_at`, so a value the database
cannot hold (``papers/limits.py``) is a :class:`FormatError` naming where it came from,
and JSON sources read their fields through :func:`text` and :func:`count`, so a list
where a title belongs is refused rather than stored as ``"['a', 'b']"``.
"""

from __future__ import annotations

from typing import Any

import orjson

from paperfeed.lib.text import without_nul
from paperfeed.papers.records import InvalidRecord, PaperRecord
from paperfeed.sources.http import FormatError

# Hugging Face's items are four levels deep; a hundred is far beyond any real answer,
# and far below where Python's recursion limit would turn the walk into a crash.
MAX_JSON_DEPTH = 100


def record_at(where: str, **fields: Any) -> PaperRecord:
    """``PaperRecord(**fields)``, or a :class:`FormatError` naming ``where`` and the field."""
    try:
        return PaperRecord(**fields)
    except InvalidRecord as exc:
        raise FormatError(f"{where}: {exc}") from exc


def text(obj: dict, name: str, where: str, *, label: str = "") -> str:
    """A text field ('' when absent or null); anything but a string is refused."""
    value = obj.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormatError(f"{where}: {label or name!r} is a {_json_kind(value)}, not text")
    return value


def count(obj: dict, name: str, where: str, *, label: str = "") -> int | None:
    """A whole-number field (None when absent or null); the range is checked by
    ``papers.limits`` against the column."""
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise FormatError(f"{where}: {label or name!r} is a {_json_kind(value)}, "
                          f"not a whole number")
    return value


def loads(body: bytes | str, where: str) -> Any:
    """Parsed JSON, no deeper than :data:`MAX_JSON_DEPTH`, with NUL characters dropped."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"{where}: not valid JSON ({exc})") from exc
    check_depth(value, where)
    if ("\\u0000" if isinstance(body, str) else b"\\u0000") in body:
        value = without_nul(value)
    return value


def check_depth(value: Any, where: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise FormatError(f"{where}: JSON nested deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values()
                         if isinstance(child, (dict, list)))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "JSON object"
    if isinstance(value, list):
        return "JSON list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__
