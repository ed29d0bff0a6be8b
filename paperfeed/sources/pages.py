"""Source: listing pages saved from Hugging Face Daily Papers (plain text).

A saved page comes in one of two layouts, both handled by one parser:

* blocks (seeds 000-003): a header (``Daily Papers``, ``byAK and the research
  community``, the page's own date), then per paper, separated by blank lines::

      Title
      Abstract
        • 4 authors          <- or an organisation name, or missing
      ·
      Sep 28 2              <- publish date, then the upvote count if any

  Papers may lack the last three lines altogether.
* lines (seed 004): the header's ``Subscribe`` glued to the first title, then title and
  abstract on consecutive lines, with no blank lines, authors or dates.

The year of ``Sep 28`` is the year the page was viewed; see
:func:`paperfeed.lib.listing_dates.infer_page_year`. A file that fits neither layout
raises :class:`PageFormatError` naming the file and line, and yields no records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from paperfeed.lib.listing_dates import ListingDate, infer_page_year, parse_listing_date
from paperfeed.lib.text import clean_line, find_code_urls, title_key
from paperfeed.papers.records import InvalidRecord, PaperRecord

SOURCE = "pages"

_HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
_AUTHORS = re.compile(r"•\s*(\d+)\s+authors?")
_SEPARATOR = "·"
_MAX_TITLE = 400
_MIN_ABSTRACT = 20


class PageFormatError(ValueError):
    def __init__(self, path: Path | str, line: int, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class PageEntry:
    line: int  # 1-based line of the title
    title: str
    abstract: str
    author_count: int | None
    organization: str
    date: ListingDate | None


@dataclass(frozen=True)
class ParsedPage:
    path: Path
    page_date: ListingDate | None
    year: int
    entries: tuple[PageEntry, ...]


def _content_lines(path: Path, text: str) -> tuple[list[tuple[int, str]], ListingDate | None]:
    """Non-blank lines after the page header, with their line numbers, and the page date."""
    lines = [(n, clean_line(raw)) for n, raw in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise PageFormatError(path, 1, "the file is empty")
    index, page_date, saw_header = 0, None, False
    while index < len(lines):
        number, line = lines[index]
        lowered = line.casefold()
        if lowered in _HEADER_LINES:
            saw_header = True
            index += 1
            continue
        if lowered.startswith("subscribe") and len(line) > len("subscribe"):
            # The saved text glued the button label to the first title.
            saw_header = True
            lines[index] = (number, line[len("subscribe") :].strip())
            break
        date = parse_listing_date(line) if saw_header and page_date is None else None
        if date is not None and date.upvotes is None:
            page_date = date
            index += 1
            continue
        break
    if not saw_header:
        raise PageFormatError(
            path, lines[0][0], "not a saved Daily Papers page (no 'Daily Papers'/'Subscribe' header)"
        )
    return lines[index:], page_date


def _is_meta(line: str) -> bool:
    return bool(_AUTHORS.fullmatch(line)) or line == _SEPARATOR


def parse_page(path: Path | str, text: str | None = None, today: dt.date | None = None) -> ParsedPage:
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise PageFormatError(path, 1, f"not UTF-8 text ({exc.reason})") from exc
    lines, page_date = _content_lines(path, text)
    entries: list[PageEntry] = []
    i = 0
    while i < len(lines):
        number, title = lines[i]
        if _is_meta(title) or parse_listing_date(title):
            raise PageFormatError(path, number, f"expected a paper title, found {title[:60]!r}")
        if len(title) > _MAX_TITLE:
            raise PageFormatError(path, number, "expected a paper title, found a long paragraph")
        if i + 1 >= len(lines):
            raise PageFormatError(path, number, f"the title {title[:60]!r} has no abstract")
        abstract_number, abstract = lines[i + 1]
        if _is_meta(abstract) or parse_listing_date(abstract) or len(abstract) < _MIN_ABSTRACT:
            raise PageFormatError(path, abstract_number, f"expected the abstract of {title[:60]!r}")
        i += 2
        author_count, organization, date = None, "", None
        # Optional byline: "• N authors" or an organisation, then "·", then the date.
        nxt = lines[i][1] if i < len(lines) else None
        after = lines[i + 1][1] if i + 1 < len(lines) else None
        if nxt is not None and (nxt == _SEPARATOR or _AUTHORS.fullmatch(nxt) or after == _SEPARATOR):
            if nxt != _SEPARATOR:
                match = _AUTHORS.fullmatch(nxt)
                if match:
                    author_count = int(match[1])
                else:
                    organization = _organization_name(nxt)
                i += 1
            if i >= len(lines) or lines[i][1] != _SEPARATOR:
                at = lines[i][0] if i < len(lines) else lines[-1][0]
                raise PageFormatError(path, at, f"expected '·' after the byline of {title[:60]!r}")
            if i + 1 >= len(lines) or parse_listing_date(lines[i + 1][1]) is None:
                at = lines[i + 1][0] if i + 1 < len(lines) else lines[i][0]
                raise PageFormatError(path, at, f"expected a date like 'Jul 20, 2024' for {title[:60]!r}")
            date = parse_listing_date(lines[i + 1][1])
            i += 2
        entries.append(PageEntry(number, title, abstract, author_count, organization, date))
    if not entries:
        raise PageFormatError(path, lines[0][0] if lines else 1, "the page lists no papers")
    dates = [e.date for e in entries if e.date] + ([page_date] if page_date else [])
    year = infer_page_year(dates, today or dt.date.today())
    return ParsedPage(path, page_date, year, tuple(entries))


def _organization_name(line: str) -> str:
    # An organisation byline is its avatar's alt text then its name ("tencent Tencent").
    words = line.split()
    if len(words) == 2 and words[0].casefold() == words[1].casefold():
        return words[1]
    return line


def records_from_page(page: ParsedPage) -> Iterator[PaperRecord]:
    for entry in page.entries:
        published = entry.date.resolve(page.year) if entry.date else None
        key = hashlib.sha1(title_key(entry.title).encode()).hexdigest()[:16]
        code_urls = find_code_urls(entry.abstract)
        try:
            record = PaperRecord(
                source=SOURCE,
                original_id=f"{page.path.name}#{key}",
                title=entry.title,
                abstract=entry.abstract,
                author_count=entry.author_count,
                organization=entry.organization,
                published_on=published,
                # A saved listing shows no other date: the day a paper was published is
                # the day it entered the feed.
                feed_date=published,
                upvotes=(entry.date.upvotes or 0) if entry.date else None,
                code_url=code_urls[0] if code_urls else "",
            )
        except InvalidRecord as exc:
            raise PageFormatError(page.path, entry.line, f"{entry.title[:60]!r}: {exc}") from exc
        yield record


def read_pages(path: Path | str, today: dt.date | None = None) -> list[PaperRecord]:
    """All records of one saved page; raises :class:`PageFormatError` before yielding any."""
    return list(records_from_page(parse_page(path, today=today)))
