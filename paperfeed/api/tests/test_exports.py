"""BibTeX and RIS round-trip through real parsers; paper pages carry citation_* tags."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
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
    assert fields["author"] == r"Jos{\'e} N{\'u}{\~n}ez and Zo{\"e} O'Brien"
    assert fields["doi"] == r"10.1234/a\_b"
    # $x_i$ stays math; a brace is a command, since BibTeX counts "\{" as an open brace.
    assert fields["title"] == (
        r"{Cost \& Benefit: 100\% of $x_i$ in \textbraceleft{}Braces\textbraceright{} "
        r"\textasciitilde{} \#1 \textasciicircum{} back\textbackslash{}slash}")


def test_latex_escaping_covers_every_special_character():
    assert latex_escape(r"& % $ # _ { } ~ ^ \ ") == (
        r"\& \% \$ \# \_ \textbraceleft{} \textbraceright{} \textasciitilde{} "
        r"\textasciicircum{} \textbackslash{}")
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


# -- BibTeX that compiles; RIS that stays line-safe ------------------------------------------

HOSTILE = [
    ("$\\beta$-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework",
     "We introduce $\\beta$-VAE, where $\\beta > 1$ trades off $D_{KL}(q(z|x)\\|p(z))$.\n\n"
     "A second paragraph with 100% of the Na\u00efve baselines & $\\mathbb{R}^n$ inputs."),
    ("Na\u00efve Bayes for Zo\u00eb's caf\u00e9 \u2014 a 100% \u201crobust\u201d approach",
     "Costs \u00a35, \u20ac7 and $5 and $10; \u03b1 \u2264 \u03b2 \u00b1 2\u00b0C, "
     "\u2200x \u2208 \u211d."),
    ("On $\\mathcal{O}(n \\log n)$ sorting & the #1 problem_set {unbalanced",
     "Lone braces } and { and \\ backslashes \\textbf{bold} ~ tilde ^ caret | bar < > \"quoted\""),
    ("Broken math: $x^a^b$, $\\frac{1}{2$, $a_$, $\\left( x \\right]$ and $\\right)$",
     "Unclosed $math at the end and $\\undefinedmacro{x}$ and $\\text{softmax}(x)$ and $a % b$"),
    ("\\input{/etc/passwd} \\def\\x{y} \\catcode`\\{=12 \\end{document}",
     "\\csname relax\\endcsname \\write18{rm -rf /} \\makeatletter @ \\@gobble"),
    ("Erd\u0151s\u2013R\u00e9nyi graphs in \u5317\u4eac with \U0001f600 emoji, \u0141\u00f3d\u017a, "
     "\u00c5ngstr\u00f6m, Stra\u00dfe, \u0105\u0119, \u0111, \u00fe",
     "Tabs\tand\x0cform feeds\x01and\u2028line separators\u0085end\\"),
    ("$$E = mc^2$$ display and \\(inline\\) math and $\\sqrt[3]{x}$ and $\\hat{\\theta}_i^2$",
     "$\\sum_{i=1}^{N} \\alpha_i \\cdot \\mathbf{x}_i \\rightarrow \\infty$ and "
     "$\\operatorname{argmax}_\\theta$ and $\\left\\{ a \\right\\}$"),
]
HOSTILE_AUTHORS = ("Jos\u00e9 N\u00fa\u00f1ez", "Smith and Wesson Labs", "Doe, Jr., John",
                   "{Braced} Name}", "\u00d6. \u00c7elik", "\u738b\u5c0f\u660e", "   ")


@pytest.fixture
def hostile():
    return make_papers(*[
        record(arxiv_id=f"2511.0600{i}", title=title, abstract=abstract, authors=HOSTILE_AUTHORS,
               published_on=dt.date(2025, 11, 19), feed_date=dt.date(2025, 11, 20),
               categories=("cs.LG",), doi="10.1000/a_b%c#d{e}")
        for i, (title, abstract) in enumerate(HOSTILE)])


def _run(command: list[str], folder) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("bibtex") is None,
                    reason="pdflatex/bibtex are not installed: `apt-get install texlive-latex-base` "
                           "(scripts/setup.sh --test does it)")
def test_bibtex_of_hostile_titles_and_abstracts_compiles_with_pdflatex_and_bibtex(
        client, hostile, tmp_path):
    bib = client.get("/api/v1/papers.bib?date=2025-11-20&limit=100").content.decode()
    entries = _entries(bib)
    assert len(entries) == len(HOSTILE)
    (tmp_path / "refs.bib").write_text(bib, encoding="utf-8")
    # plain.bst prints title and authors; every title and abstract is also typeset as it
    # stands in the file, so each field's LaTeX is compiled, not only what the style shows.
    fields = "\n".join(f"\\par {f.value}\\par" for e in entries for f in e.fields
                        if f.key in ("title", "abstract", "author", "doi", "primaryClass"))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n" + fields +
        "\n\\nocite{*}\n\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n",
        encoding="utf-8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "paper"]
    first = _run(latex, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    bibtex_run = _run(["bibtex", "paper"], tmp_path)
    log = (tmp_path / "paper.blg").read_text()
    assert "error message" not in log and bibtex_run.returncode == 0, log
    for _ in range(2):
        final = _run(latex, tmp_path)
        assert final.returncode == 0, final.stdout[-3000:]
    output = (tmp_path / "paper.log").read_text(errors="replace")
    assert "\n! " not in output and "Citation" not in output, output[-3000:]
    bbl = (tmp_path / "paper.bbl").read_text()
    assert bbl.count("\\bibitem") == len(HOSTILE)
    assert "$\\beta$-VAE" in bbl and "Na{\\\"\\i}ve" in bbl  # math kept, accents as commands
    assert "\\$\\beta" not in bbl and "\\{\u00ef\\}" not in bbl


def test_ris_of_hostile_text_keeps_one_tag_per_line(client, hostile):
    text = client.get("/api/v1/papers.ris?date=2025-11-20&limit=100").content.decode()
    lines = text.split("\r\n")
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) or line == "" for line in lines), [
        line for line in lines if not re.fullmatch(r"[A-Z][A-Z0-9]  - .*|", line)]
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]", text)
    entries = rispy.loads(text)
    assert len(entries) == len(HOSTILE)
    assert all("" not in e["authors"] and len(e["authors"]) == 6 for e in entries)
    assert any(e["abstract"].startswith("We introduce $\\beta$-VAE") for e in entries)
