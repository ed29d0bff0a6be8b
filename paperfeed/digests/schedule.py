"""When digests go out: send slots in the subscriber's time zone, and the edition each slot is.

A *slot* is the moment a subscriber's digest is due: every day (daily) or one day a week
(weekly) at ``send_hour`` local time. The *edition* names the period a slot belongs to —
``daily:2026-11-23`` (the local date) or ``weekly:2026-W48`` (the ISO week) — and is half of
the ledger's key, so one subscriber can never get two digests for the same day or week.

Pure functions of their arguments, no database: easy to test with any clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SlotRule:
    cadence: str  # "daily" or "weekly"
    send_hour: int
    weekday: int  # 0 = Monday; used by weekly only
    time_zone: str


def _zone(name: str) -> zoneinfo.ZoneInfo:
    # Forms only accept known zones, but the tz database can drop one in an update: such a
    # subscriber keeps getting digests, on UTC, rather than stalling every run.
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _slot_on(rule: SlotRule, day: dt.date) -> dt.datetime:
    """The slot on local date ``day``, as an aware UTC datetime.

    On a DST gap (02:30 that does not exist) zoneinfo picks the pre-transition offset, so
    the slot lands an hour later in wall time; on an overlap, the first occurrence.
    """
    zone = _zone(rule.time_zone)
    local = dt.datetime.combine(day, dt.time(rule.send_hour), zone)
    return local.astimezone(dt.UTC)


def _is_slot_day(rule: SlotRule, day: dt.date) -> bool:
    return rule.cadence == "daily" or day.weekday() == rule.weekday


def latest_slot(rule: SlotRule, now: dt.datetime) -> dt.datetime:
    """The most recent slot at or before ``now``."""
    day = now.astimezone(_zone(rule.time_zone)).date()
    for back in range(9):  # a weekly slot is at most 7 days back, plus today, plus DST slack
        candidate = day - dt.timedelta(days=back)
        if _is_slot_day(rule, candidate) and _slot_on(rule, candidate) <= now:
            return _slot_on(rule, candidate)
    raise AssertionError("no slot found in the last 9 days")  # unreachable for valid rules


def next_slot(rule: SlotRule, now: dt.datetime) -> dt.datetime:
    """The first slot strictly after ``now``."""
    day = now.astimezone(_zone(rule.time_zone)).date()
    for ahead in range(9):
        candidate = day + dt.timedelta(days=ahead)
        if _is_slot_day(rule, candidate) and _slot_on(rule, candidate) > now:
            return _slot_on(rule, candidate)
    raise AssertionError("no slot found in the next 9 days")


def edition(rule: SlotRule, slot: dt.datetime) -> str:
    """The edition key of ``slot``: the local date (daily) or the local ISO week (weekly)."""
    day = slot.astimezone(_zone(rule.time_zone)).date()
    if rule.cadence == "weekly":
        year, week, _ = day.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    return f"daily:{day.isoformat()}"


def edition_label(key: str) -> tuple[str, str]:
    """``("Daily", "2026-11-23")`` or ``("Weekly", "2026-W48")`` for subjects and headings."""
    cadence, _, period = key.partition(":")
    return cadence.capitalize(), period


def edition_days(key: str) -> int:
    """How many feed days an edition covers when the subscriber has seen nothing yet."""
    return 7 if key.startswith("weekly:") else 1
