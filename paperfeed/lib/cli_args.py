"""argparse ``type=`` functions for the commands' dates, numbers and periods.

A bad value raises ``ArgumentTypeError``, which argparse turns into a usage error (exit
status 2, one line: see ``paperfeed.cli``) before the command runs: never a traceback,
and never a value the command would silently misuse (``--batch-size 0`` read nothing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import urllib.parse
from collections.abc import Callable


def iso_date(text: str) -> dt.date:
    """``2026-07-31``: a real calendar day."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-07-31") from None


def iso_week(text: str) -> str:
    """``2026-W31``: an ISO week that exists (W53 only in long years)."""
    try:
        day = dt.date.fromisoformat(f"{text.strip()}-1")
    except ValueError:
        day = None
    if day is None or "W" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO week like 2026-W31")
    return text.strip()


def iso_month(text: str) -> str:
    """``2026-07``."""
    try:
        dt.date.fromisoformat(f"{text.strip()}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-07") from None
    return text.strip()


def _number(kind: type, smallest: float, largest: float | None, words: str
            ) -> Callable[[str], int | float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value != value or value < smallest or (
                largest is not None and value > largest):
            raise argparse.ArgumentTypeError(f"{text!r} is not {words}")
        return value
    parse.__name__ = words.replace(" ", "_")
    return parse


positive_int = _number(int, 1, None, "a whole number of 1 or more")
non_negative_int = _number(int, 0, None, "a whole number of 0 or more")
non_negative_float = _number(float, 0, 1e9, "a number of 0 or more")
positive_float = _number(float, 1e-9, 1e9, "a number above 0")
port = _number(int, 1, 65535, "a port number (1-65535)")
share = _number(float, 0, 1, "a share from 0 to 1")


def arxiv_id(text: str) -> str:
    """An arXiv id in any form ``parse_arxiv_id`` takes (kept as given, for the source)."""
    from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id

    try:
        parse_arxiv_id(text)
    except InvalidArxivId as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]{2,}(?:-[a-z]+)?)?")
_OAI_SET = re.compile(r"[a-z]+(?:-[a-z]+)?(?::[A-Za-z-]+(?::[A-Za-z.-]+)?)?")


def category_code(text: str) -> str:
    """An arXiv category code: ``cs.LG``, ``astro-ph.CO``, ``hep-th``."""
    if not _CATEGORY.fullmatch(text) or len(text) > 32:
        raise argparse.ArgumentTypeError(f"{text!r} is not an arXiv category like cs.LG")
    return text


def oai_set(text: str) -> str:
    """An arXiv OAI set: ``cs``, ``math``, ``physics:hep-th`` ('' for all of arXiv)."""
    if text and (not _OAI_SET.fullmatch(text) or len(text) > 100):
        raise argparse.ArgumentTypeError(f"{text!r} is not an OAI set like cs or "
                                         f"physics:hep-th")
    return text


def http_url(text: str) -> str:
    """An ``http(s)://host/...`` URL."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s):// URL")
    return text
