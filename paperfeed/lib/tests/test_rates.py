from __future__ import annotations

import pytest

from paperfeed.lib.rates import Rate, parse_rate, window_start


@pytest.mark.parametrize(
    ("text", "rate"),
    [("30/hour", Rate(30, 3600)), (" 5/minute ", Rate(5, 60)), ("1000/days", Rate(1000, 86400)),
     ("0/second", Rate(0, 1)), ("7/Hour", Rate(7, 3600))],
)
def test_it_parses_rates_as_people_write_them(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["30", "30/fortnight", "many/hour", "-1/hour", "", "/hour"])
def test_it_refuses_what_is_not_a_rate(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_it_prints_back_what_it_parsed():
    assert str(parse_rate("12/minutes")) == "12/minute"


def test_windows_are_aligned_to_the_period():
    rate = Rate(1, 3600)
    assert window_start(7200, rate) == 7200
    assert window_start(10799.9, rate) == 7200
    assert window_start(10800, rate) == 10800
