"""Markdown for user-written text (comments), rendered to HTML that is safe to show.

Two independent layers, so a bug in one is not a hole: markdown-it-py renders with raw
HTML turned off (``<script>`` typed in a comment comes out as text), then nh3 (the
Ammonia sanitiser) keeps only an allow-list of tags, attributes and URL schemes.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Remote images would let a comment track its readers.
_md.disable("image")

_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
         "del"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Sanitised HTML for ``text``; headings and unknown tags keep their text only."""
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    ).strip()
