import pytest

from paperfeed.lib.arxiv_ids import (
    InvalidArxivId,
    looks_like_arxiv_id,
    normalize_arxiv_id,
    parse_arxiv_id,
)


@pytest.mark.parametrize(
    ("text", "base", "version"),
    [
        ("2401.12345", "2401.12345", None),
        ("2401.12345v2", "2401.12345", 2),
        ("arXiv:2401.12345v2", "2401.12345", 2),
        ("ARXIV:2401.12345", "2401.12345", None),
        ("https://arxiv.org/abs/2401.12345", "2401.12345", None),
        ("https://arxiv.org/pdf/2401.12345v3.pdf", "2401.12345", 3),
        ("http://export.arxiv.org/abs/2401.12345v1?context=cs", "2401.12345", 1),
        ("https://huggingface.co/papers/2401.12345", "2401.12345", None),
        ("0808.0539", "0808.0539", None),
        ("hep-th/9901001", "hep-th/9901001", None),
        ("hep-th/9901001v2", "hep-th/9901001", 2),
        ("math.GT/0309136", "math/0309136", None),
        ("quant-ph/0201082v1", "quant-ph/0201082", 1),
        ("  https://arxiv.org/abs/astro-ph/0601001  ", "astro-ph/0601001", None),
    ],
)
def test_it_parses_every_form_people_paste(text, base, version):
    parsed = parse_arxiv_id(text)
    assert (parsed.base, parsed.version) == (base, version)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "0000.0000", "2413.12345", "1412.12345", "1501.1234", "hep-th/9913001",
     "2401.123456", "2401.12345v", "<script>", "2401 12345", "arXiv:"],
)
def test_it_rejects_what_is_not_an_id_with_a_clear_message(text):
    with pytest.raises(InvalidArxivId) as excinfo:
        parse_arxiv_id(text)
    assert "arXiv id" in str(excinfo.value)
    assert not looks_like_arxiv_id(text)


def test_urls_and_versions_print_canonically():
    parsed = parse_arxiv_id("arXiv:2401.12345v2")
    assert str(parsed) == "2401.12345v2"
    assert parsed.abs_url == "https://arxiv.org/abs/2401.12345v2"
    assert normalize_arxiv_id("hep-th/9901001v3") == "hep-th/9901001"
    assert parse_arxiv_id("hep-th/9901001").is_old_style
