import datetime as dt

import pytest

from paperfeed.lib.periods import iso_week, month_bounds, shift, week_bounds


def test_periods_at_the_calendars_edges_are_cut_not_overflowed():
    assert week_bounds(1, 1) == (dt.date(1, 1, 1), dt.date(1, 1, 7))
    assert week_bounds(9999, 52) == (dt.date(9999, 12, 27), dt.date.max)  # ISO: to 10000-01-02
    assert month_bounds(9999, 12) == (dt.date(9999, 12, 1), dt.date.max)
    assert month_bounds(2024, 2) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert shift(dt.date.max, 1) is None and shift(dt.date.min, -1) is None
    assert shift(dt.date(2025, 12, 31), 1) == dt.date(2026, 1, 1)
    assert iso_week(dt.date.min) == "0001-W01" and iso_week(dt.date.max) == "9999-W52"


@pytest.mark.parametrize("year, week", [(0, 1), (2025, 53), (2025, 0), (10000, 1), (2025, 10**30),
                                        (10**30, 1), (-1, 1)])
def test_a_week_that_does_not_exist_is_a_value_error(year, week):
    with pytest.raises(ValueError):
        week_bounds(year, week)


@pytest.mark.parametrize("year, month", [(0, 1), (2025, 13), (2025, 0), (10000, 1), (10**30, 1)])
def test_a_month_that_does_not_exist_is_a_value_error(year, month):
    with pytest.raises(ValueError):
        month_bounds(year, month)
