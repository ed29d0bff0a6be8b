"""Calendar periods (a day, an ISO week, a month) as their first and last day.

Every dated page, feed and API route reads its period through here, so the calendar's
edges are handled once: Python's dates stop at 0001-01-01 and 9999-12-31, and a naive
``day + timedelta(days=1)`` there raises ``OverflowError`` (a 500). A period that runs
past the edge (ISO week 9999-W52 ends on 10000-01-02) is cut at ``date.max``; a period
that cannot exist (year 0, week 53 of a 52-week year, month 13) is a ``ValueError``.
"""

from __future__ import annotations

import calendar
import datetime as dt


def shift(day: dt.date, days: int) -> dt.date | None:
    """``day`` moved by ``days``, or None past the first or last day a date can hold."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def week_bounds(year: int, week: int) -> tuple[dt.date, dt.date]:
    """First (Monday) and last day of ISO week ``week`` of ``year``; ValueError if none."""
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ValueError(f"year {year} is out of range")
    try:
        start = dt.date.fromisocalendar(year, week, 1)
    except OverflowError:
        raise ValueError(f"week {week} is out of range") from None
    return start, shift(start, 6) or dt.date.max


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """First and last day of ``month`` of ``year``; ValueError if there is no such month."""
    if not dt.MINYEAR <= year <= dt.MAXYEAR or not 1 <= month <= 12:
        raise ValueError(f"there is no month {year}-{month:02d}")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def iso_week(day: dt.date) -> str:
    """``2025-W07``: the ISO week ``day`` falls in."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"
