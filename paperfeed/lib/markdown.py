"""Markdown for user-written text (comments), rendered to HTML that is safe to show.

Two independent layers, so a bug in one is not a hole: markdown-it-py renders with raw
HTML turned off (``<script>`` typed in a comment comes out as text), then nh3 (the
Ammonia sanitiser) keeps only an allow-list of tags, attributes and URL schemes.
"""

from __future__ import annotations

import re

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Remote images would let a comment track its readers.
_md.disable("image")

# A comment sits under the page's h1 and its "Discussion" h2, so its headings start at h3
# and never skip a level (heading order): "## Title" first becomes h3, a "####" after it
# h4. Levels only rise one at a time; going back up is free, as in any document.
_FIRST_LEVEL = 3


def _heading_levels(state) -> None:
    previous = _FIRST_LEVEL - 1
    opened: list[str] = []
    for token in state.tokens:
        if token.type == "heading_open":
            level = min(int(token.tag[1]) + _FIRST_LEVEL - 1, previous + 1, 6)
            token.tag = f"h{level}"
            opened.append(token.tag)
            previous = level
        elif token.type == "heading_close":
            token.tag = opened.pop()


_md.core.ruler.push("heading_levels", _heading_levels)

_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
         "del", "h3", "h4", "h5", "h6"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Sanitised HTML for ``text``; headings become h3-h6, unknown tags keep their text only."""
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    ).strip()


_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(text: str) -> SafeString:
    """``text`` escaped, with Markdown's `code spans` as ``<code>``: for our own prose
    (the API's descriptions), where the rest of Markdown would be more than is written."""
    return mark_safe(_CODE_SPAN.sub(r"<code>\1</code>", escape(text or "")))
