"""Marking the query's words in titles and abstracts (HTML-safe)."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from paperfeed.lib.text import snippet


def _pattern(terms: list[str]) -> re.Pattern | None:
    parts = []
    for term in terms[:32]:
        words = term.split()
        if not words:
            continue
        if len(words) == 1:
            word = words[0]
            # The index stems words ("networks" finds "network"), so mark the stem's
            # family rather than the exact spelling typed.
            stem = word[: max(4, len(word) - 2)] if len(word) > 5 else word
            parts.append(re.escape(stem) + r"\w*")
        else:
            parts.append(r"\W+".join(re.escape(w) for w in words))
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.IGNORECASE)


def highlight(text: str, terms: list[str]) -> SafeString:
    """``text`` escaped, with every match of ``terms`` wrapped in ``<mark>``."""
    pattern = _pattern(terms)
    if pattern is None:
        return mark_safe(escape(text))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


def excerpt(text: str, terms: list[str], length: int = 300) -> SafeString:
    """A ``length``-character excerpt around the first match, highlighted."""
    pattern = _pattern(terms)
    match = pattern.search(text) if pattern is not None else None
    start = 0
    if match is not None and match.start() > length // 2:
        start = text.rfind(" ", 0, match.start() - length // 3) + 1
    piece = snippet(text[start:], length)
    return highlight(("…" if start else "") + piece, terms)
