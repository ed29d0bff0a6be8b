"""Reading a member's library: arXiv ids, URLs and BibTeX (e.g. exported from Zotero).

We look for arXiv ids wherever they appear (``eprint = {2401.12345}``, arXiv URLs,
``arXiv:...`` notes, DOIs ``10.48550/arXiv.2401.12345``, bare ids one per line), and
collect BibTeX titles so entries without an id can still match papers by title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id

_CANDIDATE = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv[:.]\s*|10\.48550/arxiv\.)?"
    r"((?:[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?)",
    re.IGNORECASE,
)
_TITLE = re.compile(r"\btitle\s*=\s*[{\"](.+?)[}\"]\s*,?\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class Library:
    arxiv_ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)


def read_library(text: str, max_items: int = 5000) -> Library:
    library = Library()
    seen: set[str] = set()
    for match in _CANDIDATE.finditer(text or ""):
        try:
            base = parse_arxiv_id(match.group(1)).base
        except InvalidArxivId:
            continue
        if base not in seen:
            seen.add(base)
            library.arxiv_ids.append(base)
    for match in _TITLE.finditer(text or ""):
        title = re.sub(r"[{}]", "", match.group(1)).strip()
        if title:
            library.titles.append(title)
    library.arxiv_ids = library.arxiv_ids[:max_items]
    library.titles = library.titles[:max_items]
    return library
