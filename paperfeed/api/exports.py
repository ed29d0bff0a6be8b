"""BibTeX and RIS for reference managers (Zotero, JabRef, BibDesk, EndNote).

BibTeX entries are arXiv-style ``@misc`` with ``eprint``/``archivePrefix``/``primaryClass``,
which biblatex and natbib styles render as "arXiv:2401.01234 [cs.LG]".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from paperfeed.lib.latex import to_latex
from paperfeed.papers.models import Paper

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STOP_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is", "are", "by"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def latex_escape(text: str) -> str:
    """A field's text as LaTeX that compiles under pdflatex (math kept, see lib.latex)."""
    return to_latex(text)


def _bibtex_name(name: str) -> str:
    # BibTeX splits a field's names at " and " and reads "Last, First" at a comma: a name
    # with "and" in it, or more than one comma, is one name only when braced.
    text = latex_escape(name)
    if re.search(r"\band\b", name, re.IGNORECASE) or name.count(",") > 1:
        return "{" + text + "}"
    return text


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def base_key(paper: Paper) -> str:
    """``lastnameYEARword``, like Google Scholar's keys: vaswani2017attention."""
    surname = _ascii_word(paper.authors[0].split()[-1]) if paper.authors and paper.authors[0].split() else ""
    year = str(paper.published_on.year) if paper.published_on else ""
    words = [_ascii_word(w) for w in paper.title.split()]
    word = next((w for w in words if w and w not in _STOP_WORDS), "")
    return (surname + year + word) or f"paper{paper.pk}"


def citation_keys(papers: list[Paper]) -> list[str]:
    """One key per paper, unique within the list: a second ``smith2024deep`` gets ``b``."""
    seen: dict[str, int] = {}
    keys = []
    for paper in papers:
        key = base_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        keys.append(key if count == 0 else key + _suffix(count))
    return keys


def _suffix(n: int) -> str:
    letters = ""
    n += 1  # the second paper is "b"
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def bibtex_entry(paper: Paper, key: str, page_url: str) -> str:
    fields: list[tuple[str, str]] = [("title", "{" + latex_escape(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", " and ".join(_bibtex_name(a) for a in paper.authors if a.strip())))
    if paper.published_on:
        fields.append(("year", str(paper.published_on.year)))
        fields.append(("month", _MONTHS[paper.published_on.month - 1]))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.primary_category_id:
            fields.append(("primaryClass", latex_escape(paper.primary_category_id)))
    if paper.doi:
        fields.append(("doi", latex_escape(paper.doi)))
    fields.append(("url", paper.arxiv_url or page_url))
    if paper.abstract:
        fields.append(("abstract", latex_escape(paper.abstract)))
    # Month is a BibTeX macro (bare); everything else is braced.
    body = ",\n".join(
        f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
        for name, value in fields
    )
    return f"@misc{{{key},\n{body}\n}}\n"


def bibtex(papers: Iterable[Paper], page_url: Callable[[Paper], str]) -> str:
    papers = list(papers)
    return "\n".join(
        bibtex_entry(p, k, page_url(p)) for p, k in zip(papers, citation_keys(papers), strict=True)
    )


def _ris_text(text: str) -> str:
    # RIS is line-based: any line break inside a value (\n, \r, U+2028, U+0085...) would
    # start a bogus tag; str.split() knows them all.
    return " ".join(_CONTROL.sub(" ", text).split())


def ris_entry(paper: Paper, page_url: str) -> str:
    lines = [("TY", "UNPB"), ("TI", paper.title)]
    lines += [("AU", author) for author in paper.authors]
    if paper.published_on:
        lines += [("PY", str(paper.published_on.year)),
                  ("DA", paper.published_on.strftime("%Y/%m/%d"))]
    if paper.abstract:
        lines.append(("AB", paper.abstract))
    if paper.arxiv_id:
        lines += [("PB", "arXiv"), ("M1", f"arXiv:{paper.arxiv_id}")]
    lines += [("KW", c.code) for c in paper.categories.all()]
    if paper.doi:
        lines.append(("DO", paper.doi))
    lines.append(("UR", paper.arxiv_url or page_url))
    if paper.best_pdf_url:
        lines.append(("L1", paper.best_pdf_url))
    # A value left empty by the cleanup (an author "   ") would be a tag with nothing.
    lines = [(tag, _ris_text(value)) for tag, value in lines]
    lines = [(tag, value) for tag, value in lines if value] + [("ER", "")]
    return "\r\n".join(f"{tag}  - {value}" for tag, value in lines) + "\r\n"


def ris(papers: Iterable[Paper], page_url: Callable[[Paper], str]) -> str:
    return "\r\n".join(ris_entry(p, page_url(p)) for p in papers)
