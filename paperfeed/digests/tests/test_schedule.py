"""Send slots and editions in the subscriber's time zone (pure functions)."""

from __future__ import annotations

import datetime as dt

from paperfeed.digests.schedule import SlotRule, edition, latest_slot, next_slot

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_a_daily_slot_is_the_send_hour_in_the_subscribers_time_zone():
    tokyo = SlotRule("daily", 8, 0, "Asia/Tokyo")  # 08:00 JST = 23:00 UTC the day before
    assert next_slot(tokyo, at(2026, 11, 23, 22, 59)) == at(2026, 11, 23, 23)
    assert latest_slot(tokyo, at(2026, 11, 23, 23)) == at(2026, 11, 23, 23)
    assert edition(tokyo, at(2026, 11, 23, 23)) == "daily:2026-11-24"  # Tokyo's date


def test_a_weekly_slot_comes_once_a_week_on_the_chosen_day():
    friday = SlotRule("weekly", 9, 4, "Europe/Paris")
    slot = next_slot(friday, at(2026, 11, 23, 12))  # a Monday
    assert slot == at(2026, 11, 27, 8)  # Friday 09:00 CET
    assert next_slot(friday, slot) == at(2026, 12, 4, 8)
    assert latest_slot(friday, at(2026, 12, 3, 12)) == slot
    assert edition(friday, slot) == "weekly:2026-W48"


def test_slots_follow_daylight_saving_time():
    paris = SlotRule("daily", 8, 0, "Europe/Paris")
    assert next_slot(paris, at(2026, 3, 28, 12)) == at(2026, 3, 29, 6)  # CEST from 29 March
    assert next_slot(paris, at(2026, 3, 27, 12)) == at(2026, 3, 28, 7)  # still CET
    # 02:00 does not exist on 29 March in Paris: the slot still comes, once.
    gap = SlotRule("daily", 2, 0, "Europe/Paris")
    first = next_slot(gap, at(2026, 3, 28, 12))
    assert first.date() == dt.date(2026, 3, 29)
    assert next_slot(gap, first) == at(2026, 3, 30, 0)


def test_after_a_long_outage_the_latest_slot_is_the_current_one_only():
    daily = SlotRule("daily", 8, 0, "UTC")
    assert latest_slot(daily, at(2026, 11, 30, 7, 59)) == at(2026, 11, 29, 8)
