from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper
from paperfeed.sources import arxiv_api
from paperfeed.sources.arxiv_api import MalformedIdError, UnknownIdError, fetch_by_ids
from paperfeed.sources.http import FormatError
from paperfeed.sources.testing import Reply


@pytest.fixture
def api(server, fixtures):
    """The replay server loaded with every recorded /api/query exchange."""
    for exchange in sorted((fixtures / "arxiv-api").glob("*.json")):
        server.add_exchange(exchange)
    return server.url + "/api/query"


def test_it_fetches_a_new_style_id(api, client):
    [record] = fetch_by_ids(["1605.08386"], base_url=api, client=client)
    assert record.arxiv_id == "1605.08386"
    assert record.source == "arxiv-api"
    assert record.title.startswith("Heat-bath random walks with Markov bases")
    assert record.authors == ("Caprice Stanley", "Tobias Windisch")
    assert record.categories[0] == "math.CO"
    assert record.published_on == dt.date(2016, 5, 26)


def test_it_fetches_an_old_style_id_with_journal_ref(api, client):
    [record] = fetch_by_ids(["astro-ph/0601001"], base_url=api, client=client)
    assert record.arxiv_id == "astro-ph/0601001"
    assert record.version == 1
    assert record.journal_ref == "ActaAstron.56:1-50,2006"
    assert record.categories == ("astro-ph",)
    assert len(record.authors) == 4


def test_it_keeps_the_requested_version_and_accepts_pasted_forms(api, client):
    [record] = fetch_by_ids(["arXiv:2104.12255v1"], base_url=api, client=client)
    assert (record.arxiv_id, record.version) == ("2104.12255", 1)
    [old] = fetch_by_ids(["https://arxiv.org/abs/quant-ph/0201082v1"], base_url=api,
                         client=client)
    assert old.arxiv_id == "quant-ph/0201082"


def test_it_fetches_two_ids_in_one_request_in_the_order_given(api, client, server, fixtures):
    # The recording asks for 0808.05394 (which does not exist) and 1707.08567 at once.
    server.add("/api/query?search_query=&id_list=1707.08567%2C1605.08386&sortBy=relevance"
               "&sortOrder=descending&start=0&max_results=100",
               Reply(200, _body(fixtures, "id_0808.05394_1707.08567")))
    with pytest.raises(UnknownIdError) as error:
        fetch_by_ids(["1707.08567", "1605.08386"], base_url=api, client=client)
    assert error.value.ids == ["1605.08386"]


def test_a_malformed_id_is_rejected_before_any_request(api, client, server):
    with pytest.raises(MalformedIdError, match="'abc' is not an arXiv id") as error:
        fetch_by_ids(["2401.12345", "abc"], base_url=api, client=client)
    assert error.value.ids == ["abc"]
    assert server.requests == []


def test_arxivs_http_400_error_feed_becomes_a_malformed_id_error(api, client):
    with pytest.raises(MalformedIdError, match="incorrect id format for abc"):
        arxiv_api.query(id_list=["abc"], base_url=api, client=client)


def test_an_id_arxiv_does_not_know_is_an_unknown_id_error(api, client, server, fixtures):
    # Well-formed but absent: arXiv answers with an empty feed, as recorded for 0000.0000.
    server.add("/api/query?search_query=&id_list=2401.99999&sortBy=relevance"
               "&sortOrder=descending&start=0&max_results=100",
               Reply(200, _body(fixtures, "id_0000.0000")))
    with pytest.raises(UnknownIdError, match="no paper with id 2401.99999"):
        fetch_by_ids(["2401.99999"], base_url=api, client=client)


def test_search_pages_through_results(api, client, server):
    pages = list(arxiv_api.search("testing", page_size=10, limit=30, base_url=api,
                                  client=client))
    assert [p.start for p in pages] == [0, 10, 20]
    ids = [r.arxiv_id for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == 30
    assert pages[0].total == 214881


def test_search_pages_equal_one_big_page(api, client):
    paged = [r.arxiv_id for p in arxiv_api.search("testing", page_size=10, limit=20,
                                                  base_url=api, client=client) for r in p.records]
    whole = [r.arxiv_id for p in arxiv_api.search("testing", page_size=15, limit=15,
                                                  base_url=api, client=client) for r in p.records]
    assert paged[:10] == whole[:10]


def test_a_truncated_feed_is_a_format_error(server, client, fixtures):
    body = _body(fixtures, "id_1605.08386")
    server.add("/api/query?search_query=&id_list=1605.08386&sortBy=relevance"
               "&sortOrder=descending&start=0&max_results=100", Reply(200, body[: len(body) // 2]))
    with pytest.raises(FormatError, match="not a well-formed XML"):
        fetch_by_ids(["1605.08386"], base_url=server.url + "/api/query", client=client)


def test_acm_and_msc_classes_are_not_categories(fixtures):
    page = arxiv_api.parse_feed((fixtures / "arxiv-api/arxiv_api_cs.AI_LG_CL_2026-08-02.xml")
                                .read_bytes())
    assert len(page.records) == 25
    for record in page.records:
        assert record.categories and all(c[0].islower() for c in record.categories)


@pytest.mark.django_db
def test_fetched_records_import_once(api, client):
    def fetch():
        return [r for i in ("1605.08386", "astro-ph/0601001")
                for r in fetch_by_ids([i], base_url=api, client=client)]

    first = apply_records(fetch())
    again = apply_records(fetch())
    assert (first.new, again.new, again.updated, again.skipped) == (2, 0, 0, 2)
    paper = Paper.objects.get(arxiv_id="astro-ph/0601001")
    assert paper.primary_category_id == "astro-ph"
    assert list(Paper.objects.in_category("astro-ph")) == [paper]


def _body(fixtures, prefix: str) -> str:
    import json

    [path] = (fixtures / "arxiv-api").glob(prefix + "_s0_m100_*.json")
    return json.loads(path.read_text())["body"]
