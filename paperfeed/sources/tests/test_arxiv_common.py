from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.sources.arxiv_common import category_codes, parse_date, parse_datetime

UTC = dt.UTC


@pytest.mark.parametrize("text, expected", [
    ("Mon, 2 Apr 2007 19:18:42 GMT", dt.datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
    ("Tue, 24 Jul 2007 20:10:27 GMT", dt.datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)),
    ("Mon, 27 Apr 2026 00:00:00 -0400", dt.datetime(2026, 4, 27, 4, 0, tzinfo=UTC)),
    ("2021-04-20T16:07:14Z", dt.datetime(2021, 4, 20, 16, 7, 14, tzinfo=UTC)),
    ("2026-07-31T00:00:00.000Z", dt.datetime(2026, 7, 31, tzinfo=UTC)),
    ("Mon, 31 Feb 2007 19:18:42 GMT", None),
    ("yesterday", None),
    ("", None),
])
def test_it_parses_the_dates_arxiv_and_hf_write(text, expected):
    assert parse_datetime(text) == expected


def test_dates_take_the_day_part():
    assert parse_date("2015-01-16") == dt.date(2015, 1, 16)
    assert parse_date("2026-07-28T00:00:00.000Z") == dt.date(2026, 7, 28)
    assert parse_date("") is None


def test_only_arxiv_categories_are_kept_in_order():
    assert category_codes("stat.ML cs.LG math.FA cs.LG") == ("stat.ML", "cs.LG", "math.FA")
    assert category_codes(["I.2.7", "68T05", "cond-mat.stat-mech", "hep-th"]) == (
        "cond-mat.stat-mech", "hep-th")


def test_every_arxiv_category_code_is_recognised():
    from paperfeed.papers.categories import arxiv_categories

    codes = [row["code"] for row in arxiv_categories()]
    assert [c for c in codes if category_codes(c) != (c,)] == []
