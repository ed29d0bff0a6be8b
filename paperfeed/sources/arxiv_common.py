"""Pieces every arXiv source needs: XML parsing, category codes, dates, the arXiv id."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from paperfeed.lib.text import clean_line
from paperfeed.sources.http import FormatError

# arXiv category codes: ``cs.LG``, ``astro-ph.CO``, ``hep-th``, ``math-ph``. Feeds also
# carry ACM (``I.2.7``) and MSC (``68T05``) classes as categories; those are not ours.
_CATEGORY = re.compile(r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]{2,})?")


def parse_xml(body: bytes | str, where: str) -> Element:
    """Parse an XML document, naming ``where`` in the error (a truncated page, HTML...)."""
    try:
        return ElementTree.fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise FormatError(f"{where}: not a well-formed XML document ({exc})") from exc


def text_of(element: Element | None) -> str:
    return clean_line(element.text or "") if element is not None else ""


def category_codes(terms: list[str] | str) -> tuple[str, ...]:
    """arXiv category codes in order, without duplicates or non-arXiv classes."""
    if isinstance(terms, str):
        terms = terms.split()
    seen: dict[str, None] = {}
    for term in terms:
        term = term.strip()
        if _CATEGORY.fullmatch(term):
            seen.setdefault(term, None)
    return tuple(seen)


def parse_datetime(value: str) -> dt.datetime | None:
    """ISO 8601 (``2021-04-20T16:07:14Z``) or an RFC 2822 date, as an aware UTC datetime."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_date(value: str) -> dt.date | None:
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        parsed = parse_datetime(value)
        return parsed.date() if parsed else None
