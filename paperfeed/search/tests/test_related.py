"""Related papers by words (a paper without an embedding): the title's informative words,
searched the way a search for the title ranks them, with a bounded amount of work."""

from __future__ import annotations

import pytest

from paperfeed.search.keyword import RELATED_MAX_TERMS, KeywordDoc, KeywordIndex
from paperfeed.search.query import parse_query


@pytest.fixture
def index(tmp_path):
    return KeywordIndex(tmp_path / "keyword")


def _filler(start: int, count: int) -> list[KeywordDoc]:
    # Papers that share only everyday words ("the", "of", "model") with the titles below.
    return [KeywordDoc(id=start + n, title=f"The model of system {n}",
                       abstract=f"We study the model of a system with the method number {n}.",
                       authors=[f"Author {n}"]) for n in range(count)]


def test_words_most_papers_have_are_left_out(index):
    index.upsert([
        KeywordDoc(id=1, title="The quasar model of the survey", authors=["Ada Lovelace"]),
        KeywordDoc(id=2, title="A quasar survey", abstract="The model of quasars."),
        KeywordDoc(id=3, title="Survey of the lensing model"),
        *_filler(100, 30),
    ])
    terms = index.related_terms("The quasar model of the survey", cheap_df=5)
    assert {term for _, term in terms} == {"quasar", "survey"}
    # The word in fewest documents comes first.
    assert terms[0][1] == "quasar"
    found = [pid for pid, _ in index.related("The quasar model of the survey", limit=10,
                                             cheap_df=5)]
    # Papers sharing only "the", "of", "model" are not related; those sharing both rare
    # words rank above the one sharing one.
    assert set(found[:2]) == {1, 2} and found[2:] == [3]


def test_a_small_corpus_keeps_every_word(index):
    index.upsert([KeywordDoc(id=1, title="The quasar model of the survey"),
                  *_filler(100, 30)])
    terms = index.related_terms("The quasar model of the survey")
    assert {term for name, term in terms if name == "title"} == {
        "the", "quasar", "model", "of", "survey"}


def test_the_same_words_rank_the_same_papers_as_a_search_for_the_title(index):
    # Every word kept (a small corpus): the same BM25 over the same fields as a search.
    index.upsert([
        KeywordDoc(id=1, title="Dark matter halos of dwarf galaxies"),
        KeywordDoc(id=2, title="Dwarf galaxies in clusters", abstract="Dark matter content."),
        KeywordDoc(id=3, title="Halos around stars", authors=["D. Matter"]),
        KeywordDoc(id=4, title="Galaxies", abstract="Dwarf spheroidal galaxies."),
        *_filler(100, 10),
    ])
    title = "Dark matter halos of dwarf galaxies"
    searched, _ = index.search(parse_query(title), limit=20)
    related = index.related(title, limit=20)
    assert [pid for pid, _ in related] == [pid for pid, _ in searched]
    assert [s for _, s in related] == pytest.approx([s for _, s in searched])


def test_a_title_of_common_words_still_finds_papers_by_its_rarest_word(index):
    index.upsert([KeywordDoc(id=1, title="On the system of the model number 3"),
                  *_filler(100, 30)])
    terms = index.related_terms("On the system of the model", cheap_df=5)
    # "on" is in one title, every other word in 31: "on" alone, in every field it is in.
    assert terms == [("title", "on")]
    assert [pid for pid, _ in index.related("On the system of the model", cheap_df=5)] == [1]


def test_it_looks_words_up_as_the_index_wrote_them(index):
    index.upsert([KeywordDoc(id=1, title="Galaxies' rotation-curves measured quickly",
                             authors=["Vera Rubin"])])
    terms = index.related_terms("galaxy ROTATION curve measuring quick Rubin")
    # Stemmed in title and abstract (en_stem), lower-cased in authors (default).
    assert {term for name, term in terms if name == "title"} == {
        "galaxi", "rotat", "curv", "measur", "quick"}
    assert ("authors", "rubin") in terms
    assert [pid for pid, _ in index.related("galaxy ROTATION curve measuring quick Rubin")] \
        == [1]


def test_a_long_title_uses_only_its_rarest_words(index):
    words = [f"word{n}" for n in range(RELATED_MAX_TERMS + 8)]
    # word0 is in one document, word1 in two, ...: rarer words come first.
    index.upsert([KeywordDoc(id=n + 1, title=" ".join(words[n:])) for n in range(len(words))])
    terms = index.related_terms(" ".join(words))
    used = list(dict.fromkeys(term for _, term in terms))
    assert used == [f"word{n}" for n in range(RELATED_MAX_TERMS)]


def test_nothing_to_look_for_finds_nothing(index):
    index.upsert(_filler(100, 3))
    assert index.related("", limit=5) == []
    assert index.related("zebra unicorn", limit=5) == []
    assert index.related_terms("!!! ???") == []


@pytest.fixture
def quasars(db, settings):
    from paperfeed.api.tests.factories import make_papers, record
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.service import get_engine

    settings.PAGE_CACHE_SECONDS = 0  # every request renders: what is cached is the related ids
    made = make_papers(record(arxiv_id="2401.00001", title="Quasar lensing survey"),
                       record(arxiv_id="2401.00002", title="Quasar lensing catalogue"),
                       record(arxiv_id="2401.00003", title="Protein folding kinetics"))
    rebuild(get_engine())
    return made


def _related_on_page(client, paper) -> list[str]:
    import re

    html = client.get(paper.get_absolute_url()).content.decode()
    section = html.split('id="related-heading"', 1)[1].split("</section>", 1)[0] \
        if 'id="related-heading"' in html else ""
    return re.findall(r'<a href="/papers/([^"]+)"', section)


def test_the_paper_page_reads_related_papers_from_the_cache(client, quasars):
    from django.core.cache import cache

    from paperfeed.search.service import get_engine

    survey, catalogue, protein = quasars
    assert _related_on_page(client, survey) == ["2401.00002"]
    key = f"pf:related:{get_engine().version()}:{survey.pk}:5"
    assert cache.get(key) == [catalogue.pk]
    cache.set(key, [protein.pk, catalogue.pk])
    assert _related_on_page(client, survey) == ["2401.00003", "2401.00002"]
    # Whether a related paper may be shown is asked on every render.
    protein.status = protein.Status.HIDDEN
    protein.save()
    assert _related_on_page(client, survey) == ["2401.00002"]


def test_a_change_to_the_index_retires_cached_related_papers(client, quasars):
    from paperfeed.api.tests.factories import make_papers, record

    survey = quasars[0]
    assert _related_on_page(client, survey) == ["2401.00002"]
    make_papers(record(arxiv_id="2401.00004", title="A quasar lensing survey, again"))
    assert sorted(_related_on_page(client, survey)) == ["2401.00002", "2401.00004"]
