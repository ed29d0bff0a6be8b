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

# A comment sits under the page's h1 and its "Discussion" h2, so its own headings start
# at h3: "# Title" in a comment must not compete with the page's title (heading order).
_HEADING_SHIFT = 2


def _shifted_heading(renderer, tokens, idx, options, env):
    token = tokens[idx]
    token.tag = f"h{min(int(token.tag[1]) + _HEADING_SHIFT, 6)}"
    return renderer.renderToken(tokens, idx, options, env)


_md.add_render_rule("heading_open", _shifted_heading)
_md.add_render_rule("heading_close", _shifted_heading)

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
