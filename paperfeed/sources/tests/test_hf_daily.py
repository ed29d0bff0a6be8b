from __future__ import annotations

import datetime as dt
import json

import pytest

from paperfeed.papers.models import Paper
from paperfeed.sources import hf_daily
from paperfeed.sources.http import FormatError
from paperfeed.sources.importing import import_pages
from paperfeed.sources.testing import Reply

JULY_31 = "/api/daily_papers?date=2026-07-31&limit=100&p=0"
JUNE_12 = "/api/daily_papers?date=2026-06-12&limit=100&p=0"


@pytest.fixture
def hf(server, fixtures):
    server.add_file(JULY_31, fixtures / "hf-api/personalnewsfeed_hf_daily_papers.json")
    server.add_file(JUNE_12, fixtures / "hf-api/sotawhat_hf_daily_papers.json")
    return server.url + "/api"


def _fetch(hf, client, day):
    return [r for page in hf_daily.fetch(("date", day), base_url=hf, client=client) for r in page]


def test_the_feed_date_is_submitted_on_daily_at_not_published_at(hf, client):
    records = _fetch(hf, client, "2026-07-31")
    assert len(records) == 30
    first = records[0]
    assert first.arxiv_id == "2607.23193"
    assert first.feed_date == dt.date(2026, 7, 31)
    assert first.published_on == dt.date(2026, 7, 28)  # paper.publishedAt, not the top one
    assert (first.upvotes, first.submitted_by) == (3, "Consonnm")
    assert (first.code_url, first.github_stars) == ("https://github.com/MAC-AutoML/OmniScope", 5)
    assert first.authors[:2] == ("Jinsen Su", "Yongdong Luo")


def test_it_keeps_ai_summary_keywords_organisation_and_project_page(hf, client):
    records = _fetch(hf, client, "2026-06-12")
    first = records[0]
    assert first.organization == "California institute of technology"
    assert first.ai_summary.startswith("Large language models exhibit limited ability")
    assert "LLM-as-a-judge" in first.ai_keywords
    assert any(r.project_url.startswith("https://") for r in records)


def test_it_pages_until_a_short_page(server, client, fixtures):
    items = json.loads((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_text())
    server.add("/api/daily_papers?week=2026-W24&limit=20&p=0", Reply(200, json.dumps(items[:20])))
    server.add("/api/daily_papers?week=2026-W24&limit=20&p=1", Reply(200, json.dumps(items[20:])))
    pages = list(hf_daily.fetch(("week", "2026-W24"), page_size=20, base_url=server.url + "/api",
                                client=client))
    assert [len(p) for p in pages] == [20, 10]


def test_a_page_with_a_missing_field_stores_nothing(server, client, fixtures, db):
    items = json.loads((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_text())
    del items[7]["paper"]["submittedOnDailyAt"]
    server.add(JUNE_12, Reply(200, json.dumps(items)))
    with pytest.raises(FormatError, match=r"item 8: paper is missing submittedOnDailyAt"):
        import_pages(hf_daily.fetch(("date", "2026-06-12"), base_url=server.url + "/api",
                                    client=client))
    assert Paper.objects.count() == 0


@pytest.mark.parametrize("change", [{"upvotes": "many"}, {"upvotes": [3]},
                                    {"authors": 5}, {"title": None}])
def test_a_field_of_the_wrong_type_rejects_the_page_naming_the_item(server, client, fixtures,
                                                                    db, change):
    items = json.loads((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_text())
    items[4]["paper"].update(change)
    server.add(JUNE_12, Reply(200, json.dumps(items)))
    with pytest.raises(FormatError, match=r"item 5: ('upvotes' is a (string|JSON list), not a whole number|'authors' is not a list|paper is missing title)"):
        import_pages(hf_daily.fetch(("date", "2026-06-12"), base_url=server.url + "/api",
                                    client=client))
    assert Paper.objects.count() == 0


def test_nul_characters_are_dropped_so_postgresql_can_store_the_page(server, client, fixtures,
                                                                      db):
    items = json.loads((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_text())
    paper = items[0]["paper"]
    paper["title"] = "Nul\u0000 title"
    paper["summary"] = "Abstract\u0000 with a NUL; a literal \\u0000 stays."
    paper["ai_keywords"] = "not a list"
    server.add(JUNE_12, Reply(200, json.dumps(items)))
    import_pages(hf_daily.fetch(("date", "2026-06-12"), base_url=server.url + "/api",
                                client=client))
    stored = Paper.objects.get(title="Nul title")
    assert stored.abstract == "Abstract with a NUL; a literal \\u0000 stays."
    assert stored.ai_keywords == [] and Paper.objects.count() == len(items)


def test_periods_are_validated():
    assert hf_daily.period_params(week="2026-W31") == ("week", "2026-W31")
    assert hf_daily.period_params(month="2026-07") == ("month", "2026-07")
    with pytest.raises(ValueError, match="not an ISO week"):
        hf_daily.period_params(week="2026-31")
    with pytest.raises(ValueError, match="not a month"):
        hf_daily.period_params(month="July")


@pytest.mark.django_db
def test_papers_from_hf_and_arxiv_are_one_paper(hf, client, fixtures):
    import_pages(hf_daily.fetch(("date", "2026-07-31"), base_url=hf, client=client))
    paper = Paper.objects.get(arxiv_id="2607.23193")
    assert paper.feed_date == dt.date(2026, 7, 31) and paper.upvotes_imported == 3
    assert Paper.objects.for_day(dt.date(2026, 7, 31)).count() == 30
    again = import_pages(hf_daily.fetch(("date", "2026-07-31"), base_url=hf, client=client))
    assert (again.new, again.updated, again.skipped) == (0, 0, 30)


def _serve_changed(server, fixtures, change: dict, *, item: dict | None = None) -> None:
    items = json.loads((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_text())
    items[4]["paper"].update(change)
    items[4].update(item or {})
    server.add(JUNE_12, Reply(200, json.dumps(items)))


def _import(server, client):
    return import_pages(hf_daily.fetch(("date", "2026-06-12"), base_url=server.url + "/api",
                                       client=client))


@pytest.mark.parametrize("change, item, says", [
    ({"upvotes": -1}, {}, "'upvotes' is -1, outside 0..2147483647"),
    ({"githubStars": -3}, {}, "'github_stars' is -3, outside 0..2147483647"),
    ({}, {"numComments": -2}, "'num_comments' is -2, outside 0..2147483647"),
    ({"upvotes": 10**30}, {}, r"'upvotes' is 1000000000…\(31 digits\), outside"),
    ({"upvotes": True}, {}, "'upvotes' is a boolean, not a whole number"),
    ({"title": ["a", "b"]}, {}, "'title' is a JSON list, not text"),
    ({"summary": {"text": "x"}}, {}, "'summary' is a JSON object, not text"),
    ({"githubRepo": ["https://github.com/a/b"]}, {}, "'githubRepo' is a JSON list, not text"),
    ({"id": 2606.12345}, {}, "'id' is a float, not text"),
    ({"authors": [{"name": ["A"]}]}, {}, r"'authors\[1\].name' is a JSON list, not text"),
    ({"authors": [7]}, {}, "author 1 is neither a name nor an object"),
    ({"githubRepo": "https://github.com/" + "x" * 600}, {},
     "'code_url' is 619 characters, longer than the 500"),
    ({"id": "x" * 400}, {}, "'original_id' is 400 characters, longer than the 300"),
    ({"submittedOnDailyBy": {"user": 5}}, {}, "'submittedOnDailyBy.user' is a number, not text"),
])
def test_a_value_the_database_cannot_hold_rejects_the_page_naming_item_and_field(
        server, client, fixtures, db, change, item, says):
    _serve_changed(server, fixtures, change, item=item)
    with pytest.raises(FormatError, match=rf"date=2026-06-12.*, item 5: {says}"):
        _import(server, client)
    assert Paper.objects.count() == 0


def test_deeply_nested_json_is_refused_not_a_recursion_error(server, client, db):
    for depth in (200, 100_000):
        server.add(JUNE_12, Reply(200, "[" * depth + "]" * depth))
        with pytest.raises(FormatError, match="(nested deeper than 100 levels|not valid JSON)"):
            _import(server, client)


def test_authors_given_as_strings_are_names_and_long_display_names_are_shortened(
        server, client, fixtures, db):
    organisation = {"name": "org", "fullname": "O" * 5_000}
    _serve_changed(server, fixtures, {"authors": ["Ada Lovelace", {"name": "Alan Turing"}, " "]},
                   item={"organization": organisation})
    _import(server, client)
    items = json.loads((fixtures / "hf-api/sotawhat_hf_daily_papers.json").read_text())
    paper = Paper.objects.get(arxiv_id=items[4]["paper"]["id"])
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert paper.organization == "O" * 199 + "…"  # the same on SQLite and PostgreSQL
