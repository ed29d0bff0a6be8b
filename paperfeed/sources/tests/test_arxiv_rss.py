from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.papers.models import Paper
from paperfeed.sources import arxiv_rss
from paperfeed.sources.http import FormatError
from paperfeed.sources.importing import import_pages
from paperfeed.sources.testing import Reply


@pytest.fixture
def rss(server, fixtures):
    for cat in ("ai", "cl", "lg"):
        server.add_file(f"/rss/cs.{cat.upper()}", fixtures / f"arxiv-rss/distill_arxiv_cs_{cat}.xml")
    server.add_file("/rss/cs.CV", fixtures / "arxiv-rss/allnewsai_arxiv_weekend_empty_rss.xml")
    return server.url + "/rss"


def test_it_reads_a_categorys_announcements(rss, client):
    [feed] = arxiv_rss.fetch(["cs.AI"], base_url=rss, client=client)
    assert feed.announced_on == dt.date(2026, 4, 27)  # New York's day, not UTC's
    first = feed.records[0]
    assert (first.arxiv_id, first.version) == ("2604.21935", 1)
    assert first.title.startswith("Math Takes Two")
    assert first.abstract.startswith("Although language models")  # no "arXiv:... Abstract:"
    assert first.authors == ("Michael Cooper", "Samuel Cooper")
    assert first.categories == ("cs.AI", "cs.LG")
    assert first.extra["announce_type"] == "new"
    assert first.published_on == dt.date(2026, 4, 27) and first.feed_date is None


def test_an_empty_weekend_feed_is_normal(rss, client, caplog):
    [feed] = arxiv_rss.fetch(["cs.CV"], base_url=rss, client=client)
    assert feed.records == [] and feed.announced_on == dt.date(2026, 8, 1)
    assert "weekends and holidays have none" in caplog.text


def test_announce_types_filter_and_replacements_update(client, server, fixtures):
    xml = (fixtures / "arxiv-rss/distill_arxiv_cs_lg.xml").read_text()
    # A real item re-announced as its second version, the way arXiv writes a replacement.
    first_guid = xml.split("<guid isPermaLink=\"false\">", 1)[1].split("</guid>", 1)[0]
    replaced = xml.replace(first_guid, first_guid[:-2] + "v2", 1).replace(
        "<arxiv:announce_type>new</arxiv:announce_type>",
        "<arxiv:announce_type>replace</arxiv:announce_type>", 1)
    server.add("/rss/cs.LG", Reply(200, replaced))
    [only_new] = arxiv_rss.fetch(["cs.LG"], announce_types=("new",), base_url=server.url + "/rss",
                                 client=client)
    [everything] = arxiv_rss.fetch(["cs.LG"], base_url=server.url + "/rss", client=client)
    assert len(only_new.records) == len(everything.records) - 1
    replacement = everything.records[0]
    assert replacement.version == 2 and replacement.published_on is None
    assert replacement.updated_on == everything.announced_on


@pytest.mark.django_db
def test_three_categories_import_once_with_cross_lists_merged(rss, client):
    feeds = arxiv_rss.fetch(["cs.AI", "cs.CL", "cs.LG"], base_url=rss, client=client)
    stats = import_pages(f.records for f in feeds)
    assert stats.fetched == 9 and stats.new == Paper.objects.count()
    again = import_pages(f.records for f in arxiv_rss.fetch(["cs.AI", "cs.CL", "cs.LG"],
                                                            base_url=rss, client=client))
    assert (again.new, again.updated) == (0, 0)
    assert Paper.objects.in_category("cs.MA").count() == 2
    assert not Paper.objects.in_feed().exists()


@pytest.mark.django_db
def test_in_feed_puts_new_papers_on_their_day(rss, client):
    feeds = arxiv_rss.fetch(["cs.AI"], in_feed=True, base_url=rss, client=client)
    import_pages(f.records for f in feeds)
    assert Paper.objects.for_day(dt.date(2026, 4, 27)).count() == 3


def test_a_page_that_is_not_rss_is_a_format_error(server, client):
    server.add("/rss/cs.AI", Reply(200, "<html><body>Service unavailable</body></html>"))
    with pytest.raises(FormatError, match="expected an RSS 2.0"):
        list(arxiv_rss.fetch(["cs.AI"], base_url=server.url + "/rss", client=client))
