"""The search box's query language, parsed into plain data.

Syntax people know from other search boxes: words, ``"exact phrase"``, ``-exclude`` (also
``-"a phrase"``), ``author:name`` (``author:"Ada Lovelace"``), ``cat:cs.LG`` and
``year:2024`` (or ``year:2020-2024``). Everything else is a word. Parsing never fails:
unbalanced quotes close at the end, operators people type out of habit (``AND``, ``OR``,
``NEAR``, brackets, ``*``) are dropped, and unusual characters are split away, so any
input becomes either a query or an empty one the page explains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
# Boolean words some people type; our words are already combined by relevance.
_OPERATORS = frozenset({"and", "or", "not", "near"})
_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"?|(\S+))', re.UNICODE)
# A "word" is letters and digits; keeps ids like 2401.12345 and names like o'brien whole.
_WORD = re.compile(r"\w+(?:[.'’-]\w+)*", re.UNICODE)
_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[a-z-]{1,8})?", re.IGNORECASE)
_YEAR = re.compile(r"(\d{4})(?:\s*[-–]\s*(\d{4}))?")


@dataclass
class ParsedQuery:
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # words or phrases
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    notes: list[str] = field(default_factory=list)  # what was ignored, said kindly

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)

    @property
    def has_constraints(self) -> bool:
        return bool(self.excluded or self.authors or self.categories
                     or self.year_from is not None or self.year_to is not None)

    @property
    def is_empty(self) -> bool:
        return not self.has_text and not self.has_constraints

    @property
    def text(self) -> str:
        """The words and phrases as prose: what a sentence-embedding model reads."""
        return " ".join(self.words + self.phrases)

    def highlight_terms(self) -> list[str]:
        return self.words + self.phrases


def _phrase(text: str) -> str:
    return " ".join(_WORD.findall(text))


def parse_query(raw: str) -> ParsedQuery:
    """Parse the search box's text. Never raises; see the module docstring."""
    parsed = ParsedQuery()
    text = (raw or "").replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        parsed.notes.append(f"Only the first {MAX_QUERY_CHARS} characters were used.")
    count = 0
    for match in _TOKEN.finditer(text):
        negative, key, quoted, bare = match.groups()
        key = (key or "").lower()
        value = quoted if quoted is not None else (bare or "")
        if quoted is None and key and key not in {"author", "cat", "category", "year"}:
            # "re:ranking" is a word pair, not a field we know.
            value = f"{key} {value}"
            key = ""
        if count >= MAX_TERMS:
            parsed.notes.append(f"Only the first {MAX_TERMS} terms were used.")
            break
        count += 1
        if key == "author":
            name = _phrase(value)
            if name:
                (parsed.excluded if negative else parsed.authors).append(name)
        elif key in {"cat", "category"}:
            _add_category(parsed, value)
        elif key == "year":
            _add_year(parsed, value)
        elif quoted is not None:
            phrase = _phrase(value)
            if phrase:
                (parsed.excluded if negative else parsed.phrases).append(phrase)
        else:
            for word in _WORD.findall(value):
                if word.lower() in _OPERATORS and not negative:
                    continue
                (parsed.excluded if negative else parsed.words).append(word)
    return parsed


def _add_category(parsed: ParsedQuery, value: str) -> None:
    value = value.strip()
    if _CATEGORY.fullmatch(value):
        parsed.categories.append(value)
    else:
        parsed.notes.append(f"{value[:40]!r} is not a category code like cs.LG; it was ignored.")


def _add_year(parsed: ParsedQuery, value: str) -> None:
    match = _YEAR.fullmatch(value.strip())
    if not match:
        parsed.notes.append(f"year:{value[:20]} is not a year like 2024 or 2020-2024; ignored.")
        return
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    parsed.year_from, parsed.year_to = min(first, last), max(first, last)
