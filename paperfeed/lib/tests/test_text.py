from paperfeed.lib.text import (
    abstract_text,
    clean_line,
    find_code_urls,
    snippet,
    title_key,
    title_slug,
)


def test_title_keys_ignore_case_punctuation_and_accents():
    assert title_key("Trace is the New AutoDiff -- Unlocking") == title_key("trace is the new autodiff — unlocking")
    assert title_key("Gödel Machine") == title_key("Godel machine")
    assert title_key("Optimisation") != title_key("Optimization")


def test_slugs_are_ascii_and_bounded():
    assert title_slug("M^3ViT: Mixture-of-Experts") == "m3vit-mixture-of-experts"
    assert len(title_slug("word " * 100)) <= 80
    assert title_slug("!!!") == "paper"


def test_it_finds_code_links_in_abstracts():
    text = ("Code is at https://github.com/agentscope-ai/Trinity-RFT/tree/main/examples. "
            "See also github.com/foo/bar, and (https://gitlab.com/a/b).")
    assert find_code_urls(text) == [
        "https://github.com/agentscope-ai/Trinity-RFT/tree/main/examples",
        "https://github.com/foo/bar",
        "https://gitlab.com/a/b",
    ]
    assert find_code_urls("no links here") == []


def test_snippets_cut_at_a_word():
    assert snippet("short") == "short"
    cut = snippet("alpha beta gamma delta", 12)
    assert cut == "alpha beta…"
    assert clean_line("a\u00a0 b \t c ") == "a b c"


def test_only_web_urls_are_kept_for_links():
    from paperfeed.lib.text import web_url

    assert web_url("https://github.com/a/b") == "https://github.com/a/b"
    assert web_url(" http://x.org/p ") == "http://x.org/p"
    for bad in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "vbscript:x",
                "//evil.org", "github.com/a/b", "", None, "https:alert(1)"]:
        assert web_url(bad) == ""


def test_abstracts_keep_their_paragraphs_and_lose_their_wrapping():
    raw = "  First line\nwrapped here.\n  Second  paragraph,\nwrapped.\n\n\nThird.\n"
    assert abstract_text(raw) == "First line wrapped here.\nSecond paragraph, wrapped.\nThird."
    assert abstract_text("") == ""
