"""Every dated route, walked with the dates at the calendar's edges.

Any date a URL can spell gives a page, a redirect, a 404 (pages) or a 400 (API) — never
a 500: year 1 and 9999, week 0 and week 53 of a 52-week year, month 13, February 30,
numbers too long for a date. Papers on the first and last day a date can hold make the
neighbour links (previous/next day, week, month) reach the edges too.
"""

from __future__ import annotations

import copy
import datetime as dt
from urllib.parse import quote

import pytest
import time_machine
from django.test import Client

from paperfeed.api import pagination
from paperfeed.papers.tests.factories import paper

pytestmark = pytest.mark.django_db

DATES = ["0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "0000-01-01", "2025-02-30",
         "2024-02-29", "2025-02-29", "2025-13-01", "2025-00-10", "2025-01-00", "2025-01-32",
         "99999-01-01", "1" * 30 + "-01-01", "2025-1-1", "-001-01-01"]
WEEKS = ["0000-W01", "0001-W01", "0001-W52", "9999-W52", "9999-W53", "2025-W53", "2026-W53",
         "2025-W00", "2025-W99", "2025W01", "2025-w01", "99999-W01", "1" * 30 + "-W01",
         "2025-W" + "1" * 30]
MONTHS = ["0000-01", "0001-01", "9999-12", "2025-13", "2025-00", "2025-1", "99999-01",
          "1" * 30 + "-01", "2025-" + "1" * 30]

# Real periods at the edges: these must give the page (or the JSON), not an error.
VALID = {"0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "2024-02-29",
         "0001-W01", "0001-W52", "9999-W52", "2026-W53", "0001-01", "9999-12"}

PAGE_OK = {200, 404}
API_OK = {200, 400, 404}  # 404: a well-formed week the calendar lacks (2025-W53)


def _expect(value: str, allowed: set[int]) -> set[int]:
    return {200} if value in VALID else allowed


def _cases():
    for day in DATES:
        yield f"/papers/date/{day}", _expect(day, PAGE_OK)
        yield f"/papers/go?date={day}", {302}
        for query in (f"date={day}", f"date={day}&sort=trending"):
            yield f"/api/daily_papers?{query}", _expect(day, API_OK)
        for route in ("papers", "papers.bib", "papers.ris"):
            yield f"/api/v1/{route}?date={day}", _expect(day, API_OK)
        yield f"/api/v1/papers?published_from={day}&published_to={day}", _expect(day, API_OK)
        yield f"/api/v1/search?q=study&from={day}&to={day}", _expect(day, API_OK)
        yield f"/api/v1/search.bib?q=study&from={day}", _expect(day, API_OK)
        yield f"/papers/search?q=study&date_from={day}&date_to={day}", {200}
        if day in VALID:  # cursors are day ordinals: only a real day has one
            cursor = pagination.encode("newest", dt.date.fromisoformat(day), 1)
            yield f"/api/v1/papers?sort=newest&cursor={cursor}", {200}
        yield f"/api/v1/papers?sort=upvotes&cursor={quote(day)}.1", {400}
    # Hand-made cursors past either end of the calendar.
    for position in (0, 1, dt.date.max.toordinal(), dt.date.max.toordinal() + 1, 10**18 - 1):
        yield f"/api/v1/papers?sort=newest&cursor={position}.1", {200}
    for week in WEEKS:
        yield f"/papers/week/{week}", _expect(week, PAGE_OK)
        yield f"/papers/go?week={week}", {302}
        for query in (f"week={week}", f"week={week}&sort=trending"):
            yield f"/api/daily_papers?{query}", _expect(week, API_OK)
        for route in ("papers", "papers.bib", "papers.ris"):
            yield f"/api/v1/{route}?week={week}", _expect(week, API_OK)
    for month in MONTHS:
        yield f"/papers/month/{month}", _expect(month, PAGE_OK)
        yield f"/papers/go?month={month}", {302}
        for query in (f"month={month}", f"month={month}&sort=trending"):
            yield f"/api/daily_papers?{query}", _expect(month, API_OK)
        for route in ("papers", "papers.bib", "papers.ris"):
            yield f"/api/v1/{route}?month={month}", _expect(month, API_OK)
    for year in ("0000", "0001", "9999", "0001-9999", "9999-0001"):
        query = quote(f"study year:{year}")
        yield f"/papers/search?q={query}", {200}
        yield f"/feeds/search.rss?q={query}", {200}
        yield f"/api/v1/search?q={query}", {200}


def _family(url: str) -> str:
    path = url.split("?")[0]
    if path.startswith("/papers/go"):
        return "date-picker"
    if path.startswith(("/papers/date", "/papers/week", "/papers/month")):
        return "pages"
    return path.strip("/").split("/")[0] + ("-" + path.split(".")[-1] if "." in path else "")


CASES = list(_cases())
FAMILIES = sorted({_family(url) for url, _ in CASES})


@pytest.fixture
def edge_papers(settings):
    settings.PAPERFEED = {**copy.deepcopy(settings.PAPERFEED), "API_RATE_LIMIT": 0}
    for day in (dt.date.min, dt.date(2025, 1, 15), dt.date.max):
        paper(feed_date=day, published_on=day, title=f"A study of the day {day}")


@pytest.mark.parametrize("family", FAMILIES)
def test_no_dated_route_answers_a_server_error(edge_papers, family):
    client = Client(SERVER_NAME="127.0.0.1", raise_request_exception=False)
    failures = []
    with time_machine.travel(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), tick=False):
        for url, allowed in CASES:
            if _family(url) != family:
                continue
            response = client.get(url)
            if response.status_code not in allowed:
                failures.append(f"{url} -> {response.status_code}")
            elif response.status_code == 302:
                # The date picker sends the browser on: that page must answer too.
                target = client.get(response["Location"])
                if target.status_code not in PAGE_OK:
                    failures.append(f"{url} -> {response['Location']} -> {target.status_code}")
    assert failures == [], "\n".join(failures)


def test_pages_and_feeds_hold_papers_on_the_first_and_last_day(edge_papers, client):
    """The newest day is 9999-12-31: the latest page, trending and the feeds still answer."""
    with time_machine.travel(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), tick=False):
        for url in ("/papers", "/papers/trending", "/feeds/daily.rss", "/feeds/trending.atom",
                    "/api/daily_papers", "/api/daily_papers?sort=trending", "/api/v1/papers"):
            assert client.get(url).status_code == 200, url
        html = client.get("/papers/date/2025-01-15").content.decode()
        assert 'href="/papers/date/0001-01-01"' in html and 'href="/papers/date/9999-12-31"' in html
        html = client.get("/papers/week/2025-W03").content.decode()
        assert 'href="/papers/week/0001-W01"' in html and 'href="/papers/week/9999-W52"' in html
        html = client.get("/papers/month/2025-01").content.decode()
        assert 'href="/papers/month/0001-01"' in html and 'href="/papers/month/9999-12"' in html
