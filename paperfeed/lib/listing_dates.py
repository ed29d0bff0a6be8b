"""Dates as Hugging Face's listing pages print them.

A listing shows ``Jul 20, 2024`` for dates of earlier years and ``Sep 28`` for dates in
the year the page was viewed; the upvote count, when there is one, follows on the same
line (``Sep 28 2`` is September 28 with 2 upvotes, ``Oct 8, 2024 2`` likewise).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
)}
_DATE_LINE = re.compile(
    r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<day>\d{1,2})"
    r"(?:, (?P<year>\d{4}))?(?: (?P<upvotes>\d+))?"
)


@dataclass(frozen=True)
class ListingDate:
    month: int
    day: int
    year: int | None
    upvotes: int | None

    def resolve(self, year: int) -> dt.date:
        """The date, taking ``year`` when the line printed none."""
        return dt.date(self.year or year, self.month, self.day)


def parse_listing_date(line: str) -> ListingDate | None:
    """Parse a date line; ``None`` if the line is not one (or names no real day)."""
    match = _DATE_LINE.fullmatch(line.strip())
    if not match:
        return None
    month, day = MONTHS[match["month"]], int(match["day"])
    year = int(match["year"]) if match["year"] else None
    try:
        dt.date(year or 2000, month, day)  # 2000 is a leap year: Feb 29 stays valid
    except ValueError:
        return None
    upvotes = int(match["upvotes"]) if match["upvotes"] else None
    return ListingDate(month, day, year, upvotes)


def infer_page_year(dates: Iterable[ListingDate], today: dt.date) -> int:
    """The year a listing page was viewed in, from the dates it shows.

    The page omits the year only for dates in its own year, so that year is later
    than every year it does print: we take the latest printed year plus one. A page
    with no printed year at all is taken to be from ``today``'s year.
    """
    years = [d.year for d in dates if d.year is not None]
    return max(years) + 1 if years else today.year
