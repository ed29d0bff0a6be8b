"""arXiv identifiers: parse whatever people paste, return one canonical form.

arXiv has had two identifier schemes:

* old style (1991-2007): ``archive[.SUBJ]/YYMMNNN`` such as ``hep-th/9901001`` or
  ``math.GT/0309136``. The subject class is not part of the identity: arXiv itself
  resolves ``math.GT/0309136`` to ``math/0309136``, so we drop it.
* new style (2007-): ``YYMM.NNNN`` (until 1412) or ``YYMM.NNNNN`` (from 1501).

Either may carry a version suffix ``vN``. People paste ids with an ``arXiv:`` prefix,
as abs/pdf/html URLs (arxiv.org, export.arxiv.org, alphaxiv, Hugging Face paper pages),
and with a ``.pdf`` suffix; all of those are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = re.compile(r"(?P<yymm>\d{4})\.(?P<num>\d{4,5})(?:v(?P<version>\d+))?")
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2})?/(?P<yymm>\d{4})(?P<num>\d{3})"
    r"(?:v(?P<version>\d+))?"
)
_URL_PREFIX = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?"
    r"(?:arxiv\.org|alphaxiv\.org|huggingface\.co)/(?:abs|pdf|html|papers|overview)/",
    re.IGNORECASE,
)


class InvalidArxivId(ValueError):
    """Raised with a message a person can act on."""


@dataclass(frozen=True, order=True)
class ArxivId:
    base: str
    version: int | None = None

    def __str__(self) -> str:
        return self.versioned

    @property
    def versioned(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def is_old_style(self) -> bool:
        return "/" in self.base

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.versioned}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.versioned}"


def _strip_decorations(text: str) -> str:
    text = text.strip()
    text = _URL_PREFIX.sub("", text)
    if text[:6].lower() == "arxiv:":
        text = text[6:].strip()
    for suffix in (".pdf", "/"):
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
    # URLs may carry a query string or fragment.
    return re.split(r"[?#]", text, maxsplit=1)[0]


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an arXiv id or URL. Raises :class:`InvalidArxivId` if it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArxivId("An arXiv id is required, e.g. 2401.12345 or hep-th/9901001.")
    cleaned = _strip_decorations(text)
    match = _NEW.fullmatch(cleaned)
    if match:
        yymm, num = match["yymm"], match["num"]
        month = int(yymm[2:])
        # Five-digit numbers started in January 2015 (1501); four-digit ones end in 1412.
        if not 1 <= month <= 12 or (len(num) == 5) != (yymm >= "1501"):
            raise InvalidArxivId(f"{text.strip()!r} is not a valid arXiv id.")
        version = int(match["version"]) if match["version"] else None
        return ArxivId(f"{yymm}.{num}", version or None)
    match = _OLD.fullmatch(cleaned)
    if match:
        month = int(match["yymm"][2:])
        if not 1 <= month <= 12:
            raise InvalidArxivId(f"{text.strip()!r} is not a valid arXiv id.")
        version = int(match["version"]) if match["version"] else None
        return ArxivId(f"{match['archive']}/{match['yymm']}{match['num']}", version or None)
    raise InvalidArxivId(
        f"{text.strip()[:80]!r} is not an arXiv id. Use a form like 2401.12345, "
        "arXiv:2401.12345v2, hep-th/9901001 or https://arxiv.org/abs/2401.12345."
    )


def normalize_arxiv_id(text: str) -> str:
    """The version-less canonical id, e.g. ``'arXiv:2401.12345v2'`` -> ``'2401.12345'``."""
    return parse_arxiv_id(text).base


def looks_like_arxiv_id(text: str) -> bool:
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True
