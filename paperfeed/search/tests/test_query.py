from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.search.query import MAX_QUERY_CHARS, parse_query


def test_it_splits_words_phrases_and_exclusions():
    parsed = parse_query('graph "diffusion model" -survey -"large language"')
    assert parsed.words == ["graph"]
    assert parsed.phrases == ["diffusion model"]
    assert parsed.excluded == ["survey", "large language"]


def test_it_reads_fields():
    parsed = parse_query('author:"Geoffrey Hinton" author:lecun cat:cs.LG year:2020-2024 capsules')
    assert parsed.authors == ["Geoffrey Hinton", "lecun"]
    assert parsed.categories == ["cs.LG"]
    assert (parsed.year_from, parsed.year_to) == (2020, 2024)
    assert parsed.words == ["capsules"]


def test_a_single_year_is_a_one_year_range():
    parsed = parse_query("year:2024")
    assert (parsed.year_from, parsed.year_to) == (2024, 2024)
    assert not parsed.has_text and parsed.has_constraints


def test_it_closes_an_unbalanced_quote():
    assert parse_query('"exact phrase').phrases == ["exact phrase"]


def test_it_drops_boolean_operators_and_punctuation():
    parsed = parse_query("AND( transformers OR NEAR * attention )")
    assert parsed.words == ["transformers", "attention"]


def test_unknown_fields_are_words():
    assert parse_query("re:ranking").words == ["re", "ranking"]


def test_a_bad_year_or_category_is_explained_not_fatal():
    parsed = parse_query("year:soon cat:!!")
    assert parsed.year_from is None and parsed.categories == []
    assert len(parsed.notes) == 2


def test_it_keeps_arxiv_ids_and_hyphenated_words_whole():
    assert parse_query("2401.12345 state-of-the-art").words == ["2401.12345", "state-of-the-art"]


def test_a_huge_query_is_cut_with_a_note():
    parsed = parse_query("word " * 5000)
    assert len(parsed.words) <= 64
    assert parsed.notes


def test_emoji_and_control_characters_give_an_empty_query():
    parsed = parse_query("🎉 \x00 \u200b ***")
    assert parsed.is_empty


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_into_safe_terms(text):
    parsed = parse_query(text)
    for term in parsed.words + parsed.phrases + parsed.excluded + parsed.authors:
        assert '"' not in term and "\\" not in term and term.strip() == term and term
    assert len(text) <= MAX_QUERY_CHARS or parsed.notes


_HOSTILE = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(['"', "-", "(", ")", "*", "AND", "OR", "NEAR", "author:",
                              "cat:", "year:", ":", "\\", "🎉", "graph", "~2", "^3",
                              "title:x", "\x00", "[", "]", "{", "}", "2401.12345"]),
             max_size=30).map(" ".join),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_HOSTILE)
def test_any_input_searches_without_error(indexed_demo, text):
    from paperfeed.search.service import search_papers

    results = search_papers(text, mode="bm25", limit=5)
    assert results.hits or results.message or results.total == 0
    assert len(results.hits) <= 5
