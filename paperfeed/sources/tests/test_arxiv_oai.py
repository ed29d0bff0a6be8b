from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from paperfeed.papers.models import Paper, SourceRecord
from paperfeed.sources import arxiv_oai
from paperfeed.sources.arxiv_oai import Harvester, OaiError, parse_list_records
from paperfeed.sources.http import FetchError, FormatError
from paperfeed.sources.models import HarvestState, RejectedRecord
from paperfeed.sources.testing import Reply, serve_oai_harvest, split_list_records

pytestmark = pytest.mark.django_db
FIRST = "verb=ListRecords&metadataPrefix=arXiv&set=cs"


class Killed(BaseException):
    """Stands in for SIGKILL/SIGINT arriving between two pages."""


@pytest.fixture
def cs_pages(fixtures) -> list[str]:
    xml = (fixtures / "arxiv-oai/invenio_listrecords_arXiv_cs.xml").read_text()
    return split_list_records(xml, per_page=12)  # 46 real records: 12+12+12+10


def _harvester(server, client, **kwargs) -> Harvester:
    return Harvester(set_spec="cs", base_url=server.url + "/oai", client=client, **kwargs)


def _snapshot() -> list[tuple]:
    return [
        (p.arxiv_id, p.title, p.abstract, tuple(p.authors), p.published_on, p.updated_on,
         p.primary_category_id, tuple(sorted(c.code for c in p.categories.all())))
        for p in Paper.objects.order_by("arxiv_id").prefetch_related("categories")
    ]


def test_it_parses_the_arxiv_metadata_format(fixtures):
    page = parse_list_records((fixtures / "arxiv-oai/invenio_listrecords_arXiv_cs.xml").read_bytes())
    assert len(page.records) == 46 and page.token is None
    first = page.records[0]
    assert first.arxiv_id == "1101.4388"
    assert first.title == "Reproducing Kernel Banach Spaces with the l1 Norm"
    assert first.authors == ("Guohui Song", "Haizhang Zhang", "Fred J. Hickernell")
    assert first.categories == ("stat.ML", "cs.LG", "math.FA")
    assert (first.published_on, first.updated_on) == (dt.date(2011, 1, 23), dt.date(2012, 3, 28))
    assert first.doi == "10.1016/j.acha.2012.03.009"
    assert page.last_datestamp == dt.date(2015, 1, 16)


def test_it_parses_oai_dc_with_its_live_resumption_token(fixtures):
    page = parse_list_records(
        (fixtures / "arxiv-oai/atomiklabs_ListRecords_oai_dc_cs_2024-01-27.xml").read_bytes())
    assert page.token == "6960524|1001" and page.complete_list_size == 1162
    first = page.records[0]
    assert first.arxiv_id == "1303.2033"
    assert first.authors == ("Vilnis Liepins",)
    assert first.categories == ("cs.DS", "cs.IT", "math.NA")
    assert (first.published_on, first.updated_on) == (dt.date(2013, 3, 8), dt.date(2024, 1, 23))


def test_it_follows_resumption_tokens_to_the_end(server, client, cs_pages):
    serve_oai_harvest(server, FIRST, cs_pages)
    result = _harvester(server, client).run()
    assert (result.pages, result.stats.new) == (4, 46)
    assert server.unmatched == []
    tokens = [r.query.get("resumptionToken") for r in server.requests]
    assert tokens == [None, ["6960524|13"], ["6960524|25"], ["6960524|37"]]
    state = HarvestState.objects.get(key="arXiv:cs")
    assert state.resumption_token == "" and state.finished_at is not None
    assert state.last_datestamp == dt.date(2015, 1, 16)
    assert Paper.objects.in_category("cs.LG").exists()


def test_it_follows_arxivs_real_token_and_stops_on_the_empty_one(server, client, fixtures):
    first = (fixtures / "arxiv-oai/atomiklabs_ListRecords_oai_dc_cs_2024-01-27.xml").read_text()
    last = (fixtures / "arxiv-oai/arxiv-physics-hep-th.xml").read_text().replace(
        "</ListRecords>", '<resumptionToken cursor="1001" completeListSize="1162"/></ListRecords>')
    server.add("/oai?verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-25&set=cs",
               Reply(200, first))
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C1001", Reply(200, last))
    result = _harvester(server, client, metadata_prefix="oai_dc",
                        from_date=dt.date(2024, 1, 25)).run()
    assert (result.pages, result.stats.new) == (2, 8)


def test_a_killed_harvest_resumes_and_equals_an_uninterrupted_one(server, client, cs_pages):
    serve_oai_harvest(server, FIRST, cs_pages)
    _harvester(server, client).run()
    uninterrupted = _snapshot()
    Paper.objects.all().delete()
    HarvestState.objects.all().delete()
    server.requests.clear()

    def kill_after_two_pages(result, page):
        if result.pages == 2:
            raise Killed

    with pytest.raises(Killed):
        _harvester(server, client, on_page=kill_after_two_pages).run()
    assert Paper.objects.count() == 24  # two whole pages, committed with their checkpoint
    assert HarvestState.objects.get().resumption_token == "6960524|25"

    server.requests.clear()
    result = _harvester(server, client).run()
    assert result.resumed and result.pages == 2
    assert [r.query.get("resumptionToken") for r in server.requests] == [
        ["6960524|25"], ["6960524|37"]]
    assert _snapshot() == uninterrupted
    assert SourceRecord.objects.filter(source="arxiv-oai").count() == 46


def test_a_5xx_storm_mid_harvest_keeps_the_pages_before_it(server, client, cs_pages, caplog):
    serve_oai_harvest(server, FIRST, cs_pages)
    # max_retries=3: four 503s in a row exhaust it before the recorded page comes back.
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C25",
               *[Reply(503, headers={"Retry-After": "30"})] * 4, Reply(200, cs_pages[2]))
    with pytest.raises(FetchError):
        _harvester(server, client).run()
    assert "giving up after 4 attempts (HTTP 503)" in caplog.text
    assert Paper.objects.count() == 24
    result = _harvester(server, client).run()  # the server has recovered
    assert result.resumed and Paper.objects.count() == 46


def test_a_truncated_page_writes_nothing_and_keeps_the_checkpoint(server, client, cs_pages):
    serve_oai_harvest(server, FIRST, cs_pages)
    broken = cs_pages[1][: len(cs_pages[1]) // 2]
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C13", Reply(200, broken))
    with pytest.raises(FormatError, match="not a well-formed XML"):
        _harvester(server, client).run()
    assert Paper.objects.count() == 12
    assert HarvestState.objects.get().resumption_token == "6960524|13"


def test_an_unknown_metadata_format_is_a_clear_error(server, client, fixtures):
    xml = (fixtures / "arxiv-oai/arxiv-physics-hep-th.xml").read_text()
    xml = xml.replace('<arXiv xmlns="http://arxiv.org/OAI/arXiv/"',
                      '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"').replace(
        "</arXiv>", "</arXivRaw>")
    server.add("/oai?" + FIRST, Reply(200, xml))
    with pytest.raises(FormatError, match="unknown metadata format .*arXivRaw"):
        _harvester(server, client).run()
    assert Paper.objects.count() == 0


def test_no_records_match_is_an_empty_harvest(server, client):
    server.add("/oai?" + FIRST, Reply(200, _oai_error("noRecordsMatch", "no records")))
    result = _harvester(server, client).run()
    assert (result.pages, result.stats.fetched) == (1, 0)


def test_it_falls_back_to_oai_dc(server, client, fixtures):
    server.add("/oai?" + FIRST, Reply(200, _oai_error("cannotDisseminateFormat", "arXiv")))
    server.add_file("/oai?verb=ListRecords&metadataPrefix=oai_dc&set=cs",
                    fixtures / "arxiv-oai/atomiklabs_ListRecords_oai_dc_cs_2024-01-27.xml")
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C1001",
               Reply(200, _oai_error("noRecordsMatch", "")))
    result = _harvester(server, client).run()
    assert result.state.key == "oai_dc:cs" and result.stats.new == 5


def test_an_expired_token_restarts_from_the_last_datestamp(server, client, cs_pages):
    serve_oai_harvest(server, FIRST, cs_pages)

    def stop_after_one(result, page):
        raise Killed

    with pytest.raises(Killed):
        _harvester(server, client, on_page=stop_after_one).run()
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C13",
               Reply(200, _oai_error("badResumptionToken", "expired")))
    server.add("/oai?" + FIRST + "&from=2015-01-16", Reply(200, cs_pages[1]))
    result = _harvester(server, client).run()
    # The restart re-reads from the last stored day: the token's page, then the rest.
    assert result.pages == 3 and Paper.objects.count() == 46


def test_the_next_harvest_is_incremental_from_the_last_datestamp(server, client, cs_pages):
    serve_oai_harvest(server, FIRST, cs_pages)
    _harvester(server, client).run()
    server.add("/oai?" + FIRST + "&from=2015-01-16", Reply(200, _oai_error("noRecordsMatch", "")))
    _harvester(server, client).run()
    assert server.requests[-1].query["from"] == ["2015-01-16"]


def test_a_second_harvest_changes_nothing(server, client, cs_pages):
    serve_oai_harvest(server, FIRST, cs_pages)
    _harvester(server, client).run()
    again = _harvester(server, client, restart=True).run()
    assert (again.stats.new, again.stats.updated, again.stats.skipped) == (0, 0, 46)


def test_oai_errors_name_their_code():
    with pytest.raises(OaiError, match="badArgument"):
        parse_list_records(_oai_error("badArgument", "Illegal set"))
    assert arxiv_oai.FORMATS == ("arXiv", "oai_dc")
    assert urllib.parse.quote("|") == "%7C"


def _oai_error(code: str, message: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-01-27T17:53:42Z</responseDate>"
        '<request verb="ListRecords">http://export.arxiv.org/oai2</request>'
        f'<error code="{code}">{message}</error></OAI-PMH>'
    )


@pytest.mark.parametrize("damage, says", [
    (("<categories>cs.AI cs.CE cs.DS", "<categories>cs.AI " + "a" * 40), "category 'aaaa"),
    (("<id>1412.3138</id>", "<id>not-an-id</id>"), "record with unexpected arXiv id"),
    (("<title>", "<title>" + "x", ), None),  # a harmless change: the page stays good
])
def test_a_bad_record_is_skipped_and_kept_and_the_harvest_goes_on(server, client, cs_pages,
                                                                 damage, says):
    """Rejecting the whole page made every rerun fail on the same token forever."""
    damaged = cs_pages[1].replace(*damage, 1)
    assert damaged != cs_pages[1]
    pages = [cs_pages[0], damaged, *cs_pages[2:]]
    serve_oai_harvest(server, FIRST, pages)
    result = _harvester(server, client).run()
    assert result.pages == 4 and not HarvestState.objects.get().in_progress
    if says is None:
        assert (result.rejected, Paper.objects.count()) == (0, 46)
        return
    assert (result.rejected, Paper.objects.count()) == (1, 45)
    rejected = RejectedRecord.objects.get()
    assert rejected.source == "arxiv-oai"
    assert rejected.identifier == "oai:arXiv.org:1412.3138"
    assert "resumptionToken=6960524%7C13, record 1" in rejected.where
    assert says in rejected.message and damage[1] in rejected.content
    assert rejected.content.startswith("<record>\n<header>\n <identifier>oai:arXiv.org:1412.3138")
    # The page and its checkpoint were committed: no rerun is stuck on its token.
    assert HarvestState.objects.get().resumption_token == ""


def test_a_token_or_list_size_beyond_the_checkpoints_columns_is_handled(server, client, cs_pages):
    page = cs_pages[0].replace('completeListSize="46"', 'completeListSize="' + "9" * 30 + '"')
    parsed = parse_list_records(page)
    assert parsed.complete_list_size is None and parsed.token == "6960524|13"
    with pytest.raises(FormatError, match="resumption token of 600 characters, longer than "
                                          "the 500 a checkpoint keeps"):
        parse_list_records(cs_pages[0].replace("6960524|13", "t" * 600))
