from __future__ import annotations

from html.parser import HTMLParser

import pytest

from paperfeed.lib.markdown import render_markdown


def test_it_renders_everyday_markdown():
    html = render_markdown("Nice **result**, see `eq. 3` and [the code](https://github.com/x/y).")
    assert "<strong>result</strong>" in html
    assert "<code>eq. 3</code>" in html
    assert 'href="https://github.com/x/y"' in html
    assert 'rel="nofollow noopener ugc"' in html


def test_it_keeps_lists_and_quotes():
    html = render_markdown("> quoted\n\n1. one\n2. two\n")
    assert "<blockquote>" in html and "<ol>" in html and "<li>two</li>" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "[x](JAVASCRIPT:alert(1))",
        "<iframe src=https://evil.example></iframe>",
        '<p onclick="alert(1)">hi</p>',
        "![t](https://tracker.example/pixel.png)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_it_never_lets_markup_or_scripts_through(payload):
    tags, attributes = _elements(render_markdown(payload))
    assert tags <= {"p", "a", "code"}
    for name, value in attributes:
        assert not name.startswith("on")
        if name == "href":
            assert value.startswith(("http://", "https://", "mailto:"))


def _elements(html: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The tags and attributes a browser would build from ``html``."""
    found: tuple[set[str], list[tuple[str, str]]] = (set(), [])

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found[0].add(tag)
            found[1].extend((name, value or "") for name, value in attrs)

    Collector().feed(html)
    return found


def test_raw_html_shows_as_text():
    assert render_markdown("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"


def test_headings_start_below_the_pages_own_h1_and_h2():
    assert render_markdown("# Big") == "<h3>Big</h3>"
    # A comment that starts at "##" or jumps from "##" to "####" still goes one step at a time.
    assert render_markdown("## Smaller\n\n#### Small\n\n# Back up\n\n###### Tiny") == (
        "<h3>Smaller</h3>\n<h4>Small</h4>\n<h3>Back up</h3>\n<h4>Tiny</h4>")


def test_raw_heading_tags_stay_text():
    assert render_markdown("<h1>Big</h1>") == "<p>&lt;h1&gt;Big&lt;/h1&gt;</p>"


def test_empty_text_renders_to_nothing():
    assert render_markdown("") == ""


def test_code_spans_show_backticks_as_code_and_escape_the_rest():
    from paperfeed.lib.markdown import code_spans

    assert code_spans("Use `a<b>` and `c`, not <i>.") == (
        "Use <code>a&lt;b&gt;</code> and <code>c</code>, not &lt;i&gt;.")
    assert code_spans("a lone ` stays") == "a lone ` stays"
