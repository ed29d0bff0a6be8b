import datetime as dt

import pytest

from paperfeed.lib.listing_dates import ListingDate, infer_page_year, parse_listing_date


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jul 20, 2024", ListingDate(7, 20, 2024, None)),
        ("Sep 28 2", ListingDate(9, 28, None, 2)),
        ("Sep 28", ListingDate(9, 28, None, None)),
        ("Oct 8, 2024 2", ListingDate(10, 8, 2024, 2)),
        ("May 28 3", ListingDate(5, 28, None, 3)),
        ("Feb 29, 2024", ListingDate(2, 29, 2024, None)),
        ("  Dec 11  ", ListingDate(12, 11, None, None)),
    ],
)
def test_it_reads_dates_and_trailing_upvotes(line, expected):
    assert parse_listing_date(line) == expected


@pytest.mark.parametrize("line", ["Sept 28", "Sep 32", "Feb 30, 2024", "Feb 29, 2023", "28 Sep", "·", "Sep", ""])
def test_it_refuses_what_is_not_a_date_line(line):
    assert parse_listing_date(line) is None


def test_the_page_year_follows_the_latest_printed_year():
    dates = [ListingDate(7, 20, 2024, None), ListingDate(9, 28, None, 2), ListingDate(6, 9, 2023, None)]
    assert infer_page_year(dates, dt.date(2026, 11, 23)) == 2025
    assert ListingDate(9, 28, None, 2).resolve(2025) == dt.date(2025, 9, 28)
    assert ListingDate(7, 20, 2024, None).resolve(2025) == dt.date(2024, 7, 20)


def test_a_page_without_printed_years_is_from_this_year():
    assert infer_page_year([ListingDate(9, 28, None, None)], dt.date(2026, 11, 23)) == 2026
    assert infer_page_year([], dt.date(2026, 1, 2)) == 2026
