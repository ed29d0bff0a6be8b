"""Small text helpers shared by importers and pages."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.text import slugify

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
# Code hosts whose links in an abstract point at a paper's code.
_CODE_URL = re.compile(
    r"(?:https?://)?(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)"
    r"/[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+(?:/[^\s,;)\]}>\"']*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?)]}'\""


def clean_line(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) to one space."""
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


# arXiv (and HF, which copies arXiv) starts a paragraph on an indented line or after a
# blank one; any other line break is only the submitter's wrapping.
_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t\u00a0]+|\s*\n)\s*")


def abstract_text(text: str) -> str:
    """An abstract with its paragraphs kept, one per line, each on a single line."""
    paragraphs = (clean_line(p) for p in _PARAGRAPH_BREAK.split(text.strip()))
    return "\n".join(p for p in paragraphs if p)


def abstract_paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def title_key(title: str) -> str:
    """A matching key for titles: case, accents, punctuation and spacing don't matter.

    Two listings of the same paper can differ in all of those (``--`` vs an en dash,
    ``Optimisation`` stays different from ``Optimization`` though: that is a different
    title).
    """
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(" ", text.casefold()).strip()


def title_slug(title: str, max_length: int = 80) -> str:
    slug = slugify(unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode())
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0]
    return slug or "paper"


def find_code_urls(text: str) -> list[str]:
    """Repository links in free text, in order of appearance, without duplicates.

    Abstracts often end a link with a full stop ("... at github.com/x/y."), so trailing
    punctuation is dropped, and a bare host gets ``https://``.
    """
    seen: list[str] = []
    for match in _CODE_URL.finditer(text or ""):
        url = match.group(0).rstrip(_TRAILING_PUNCT)
        if not url.lower().startswith("http"):
            url = "https://" + url
        if url not in seen:
            seen.append(url)
    return seen


def snippet(text: str, length: int = 280) -> str:
    """The start of ``text`` cut at a word boundary, with an ellipsis when cut."""
    text = clean_line(text)
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def web_url(value: str | None) -> str:
    """``value`` if it is an http(s) URL, else "" — never a ``javascript:`` or ``data:`` link.

    Links to code and project pages come from imported data; rendering them as ``href``
    is only safe for web URLs.
    """
    value = (value or "").strip()
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    return value if scheme in {"http", "https"} and "//" in value[:10] else ""


def without_nul(value: Any) -> Any:
    """Parsed JSON with NUL characters dropped from its strings.

    PostgreSQL cannot store NUL in text: one in any field would fail the whole batch
    or page it arrives in. It carries no meaning in a title or an abstract.
    """
    if isinstance(value, str):
        return value.replace("\0", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {key: without_nul(item) for key, item in value.items()}
    return value
