"""BibTeX and RIS round-trip through real parsers; paper pages carry citation_* tags."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import bibtexparser
import pytest
import rispy

from paperfeed.api.exports import citation_keys, latex_escape
from paperfeed.api.tests.factories import make_paper, make_papers, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def tricky():
    return make_paper(
        arxiv_id="2511.04242", title="Cost & Benefit: 100% of $x_i$ in {Braces} ~ #1 ^ back\\slash",
        abstract="Line one,\nline two with an & sign.", authors=("José Núñez", "Zoë O'Brien"),
        categories=("cs.LG", "cs.AI"), published_on=dt.date(2025, 11, 19),
        feed_date=dt.date(2025, 11, 20), doi="10.1234/a_b")


def _entries(text: str):
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library.entries


def test_one_paper_is_an_arxiv_style_misc_entry(client, tricky):
    response = client.get("/papers/2511.04242.bib")
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    [entry] = _entries(response.content.decode())
    assert entry.entry_type == "misc"
    assert entry.key == "nunez2025cost"
    fields = {f.key: f.value for f in entry.fields}
    assert fields["eprint"] == "2511.04242"
    assert fields["archivePrefix"] == "arXiv"
    assert fields["primaryClass"] == "cs.LG"
    assert fields["url"] == "https://arxiv.org/abs/2511.04242"
    assert fields["year"] == "2025" and fields["month"] == "nov"
    assert fields["author"] == "José Núñez and Zoë O'Brien"
    assert fields["doi"] == r"10.1234/a\_b"
    assert fields["title"] == (
        r"{Cost \& Benefit: 100\% of \$x\_i\$ in \{Braces\} \textasciitilde{} \#1 "
        r"\textasciicircum{} back\textbackslash{}slash}")


def test_latex_escaping_covers_every_special_character():
    assert latex_escape(r"& % $ # _ { } ~ ^ \ ") == (
        r"\& \% \$ \# \_ \{ \} \textasciitilde{} \textasciicircum{} \textbackslash{}")
    assert latex_escape("two\nlines\x0c") == "two lines"


def test_keys_are_unique_within_a_list():
    papers = make_papers(*[record(title="Deep Things", authors=("Jane Smith",),
                                  published_on=dt.date(2024, 1, d)) for d in (1, 2, 3)])
    assert citation_keys(papers) == ["smith2024deep", "smith2024deepb", "smith2024deepc"]


def test_a_day_exports_as_one_parseable_file_with_unique_keys(client, tricky):
    make_papers(*[record(title="Same Title", authors=("Kim Lee",), published_on=dt.date(2025, 11, 19),
                         feed_date=dt.date(2025, 11, 20), arxiv_id=f"2511.0500{i}")
                  for i in range(3)])
    text = client.get("/api/v1/papers.bib?date=2025-11-20&limit=100").content.decode()
    entries = _entries(text)
    assert len(entries) == 4
    assert len({e.key for e in entries}) == 4


def test_a_search_exports_as_bibtex_and_ris(client, tricky):
    assert len(_entries(client.get("/api/v1/search.bib?q=braces").content.decode())) == 1
    [entry] = rispy.loads(client.get("/api/v1/search.ris?q=braces").content.decode())
    assert entry["title"].startswith("Cost & Benefit")


def test_a_paper_as_ris_reads_back_with_every_field(client, tricky):
    response = client.get("/papers/2511.04242.ris")
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    [entry] = rispy.loads(response.content.decode())
    assert entry["type_of_reference"] == "UNPB"
    assert entry["authors"] == ["José Núñez", "Zoë O'Brien"]
    assert entry["year"] == "2025" and entry["date"] == "2025/11/19"
    assert entry["abstract"] == "Line one, line two with an & sign."  # one line: RIS is line-based
    assert entry["keywords"] == ["cs.AI", "cs.LG"]
    assert entry["urls"] == ["https://arxiv.org/abs/2511.04242"]
    assert entry["file_attachments1"] == "https://arxiv.org/pdf/2511.04242"
    assert entry["doi"] == "10.1234/a_b"


def test_a_paper_without_arxiv_id_cites_its_page(client):
    paper = make_paper(title="Known only by title", published_on=dt.date(2024, 5, 1))
    [entry] = _entries(client.get(f"/papers/{paper.slug}.bib").content.decode())
    fields = {f.key: f.value for f in entry.fields}
    assert "eprint" not in fields
    assert fields["url"] == f"http://127.0.0.1/papers/{paper.slug}"


def test_an_unknown_paper_export_is_404(client):
    assert client.get("/papers/2511.99999.bib").status_code == 404


class _Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            self.meta.append((attrs.get("name") or attrs["property"], attrs.get("content", "")))
        if tag in ("link", "a"):
            self.links.append(attrs)


def test_paper_pages_carry_citation_and_open_graph_tags(client, tricky):
    parser = _Meta()
    parser.feed(client.get("/papers/2511.04242").content.decode())
    meta = parser.meta
    assert ("citation_title", tricky.title) in meta
    assert [v for k, v in meta if k == "citation_author"] == ["José Núñez", "Zoë O'Brien"]
    assert ("citation_publication_date", "2025/11/19") in meta
    assert ("citation_arxiv_id", "2511.04242") in meta
    assert ("citation_pdf_url", "https://arxiv.org/pdf/2511.04242") in meta
    assert ("og:title", tricky.title) in meta
    assert ("og:url", "http://127.0.0.1/papers/2511.04242") in meta
    hrefs = {link.get("href") for link in parser.links}
    assert {"/papers/2511.04242.bib", "/papers/2511.04242.ris"} <= hrefs


def test_export_links_in_the_json_resolve_to_the_exports(client, tricky):
    body = client.get("/api/v1/papers/2511.04242").json()
    for key in ("bibtex_url", "ris_url"):
        path = body[key].removeprefix("http://127.0.0.1")
        assert client.get(path).status_code == 200, path
