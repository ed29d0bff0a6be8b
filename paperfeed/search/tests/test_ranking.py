"""Ranking sanity on the demo corpus (real Daily Papers listings), keyword mode."""

from __future__ import annotations

import datetime as dt

from paperfeed.papers.models import Category, Paper
from paperfeed.search.service import search_papers


def _titles(results) -> list[str]:
    found = Paper.objects.in_bulk([h.paper_id for h in results.hits])
    return [found[h.paper_id].title for h in results.hits]


def test_the_paper_named_by_its_title_ranks_first(indexed_demo):
    paper = Paper.objects.get(title="History-Guided Video Diffusion")
    results = search_papers("history guided video diffusion", mode="bm25")
    assert results.hits[0].paper_id == paper.pk
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True)


def test_stemming_finds_other_forms_of_a_word(indexed_demo):
    singular = {h.paper_id for h in search_papers("transformer", mode="bm25", limit=200).hits}
    plural = {h.paper_id for h in search_papers("transformers", mode="bm25", limit=200).hits}
    assert singular and singular == plural


def test_an_exact_phrase_only_matches_the_words_in_order(indexed_demo):
    titles = _titles(search_papers('"video diffusion"', mode="bm25", limit=50))
    assert titles
    for paper in Paper.objects.filter(title__in=titles):
        text = f"{paper.title} {paper.abstract}".lower().replace("-", " ")
        assert "video diffusion" in " ".join(text.split())


def test_excluded_words_remove_papers(indexed_demo):
    with_video = search_papers("diffusion", mode="bm25", limit=500)
    without = search_papers("diffusion -video", mode="bm25", limit=500)
    assert 0 < without.total < with_video.total
    for paper in Paper.objects.filter(pk__in=[h.paper_id for h in without.hits]):
        assert "video" not in f"{paper.title} {paper.abstract}".lower()


def test_category_year_and_date_filters_narrow_results(indexed_demo):
    paper = Paper.objects.filter(published_on__isnull=False, title__icontains="diffusion")[0]
    paper.categories.add(Category.objects.get(code="astro-ph.GA"))
    from paperfeed.search.indexing import index_papers
    from paperfeed.search.service import get_engine

    index_papers(get_engine(), [paper.pk])
    assert [h.paper_id for h in search_papers("diffusion cat:astro-ph.GA", mode="bm25").hits] == [paper.pk]
    assert paper.pk in {h.paper_id for h in search_papers(
        "diffusion", mode="bm25", filters={"category": "astro-ph"}).hits}
    year = paper.published_on.year
    in_year = search_papers(f"diffusion year:{year}", mode="bm25", limit=500)
    assert paper.pk in {h.paper_id for h in in_year.hits}
    assert search_papers(f"diffusion year:{year - 30}", mode="bm25").total == 0
    after = search_papers("diffusion", mode="bm25", limit=500,
                          filters={"date_from": paper.published_on + dt.timedelta(days=1)})
    assert paper.pk not in {h.paper_id for h in after.hits}


def test_author_filter_matches_names(shared_dir, db, search_dir):
    from paperfeed.papers.merge import apply_records
    from paperfeed.papers.records import PaperRecord
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.service import get_engine

    apply_records([
        PaperRecord(source="arxiv-api", original_id="a", arxiv_id="2401.00001",
                    title="Capsule networks revisited", authors=("Geoffrey Hinton", "Sara Sabour")),
        PaperRecord(source="arxiv-api", original_id="b", arxiv_id="2401.00002",
                    title="Capsule networks for text", authors=("Ada Lovelace",)),
    ])
    rebuild(get_engine())
    assert [h.paper_id for h in search_papers('capsule author:"geoffrey hinton"').hits] == [
        Paper.objects.get(arxiv_id="2401.00001").pk]
    assert search_papers("capsule", filters={"author": "Lovelace"}).total == 1
    assert search_papers("hinton", mode="bm25").total == 1  # authors are searched as text too


def test_newest_sort_orders_by_publication_date(indexed_demo):
    results = search_papers("model", mode="bm25", limit=30, filters={"sort": "newest"})
    dates = list(Paper.objects.filter(pk__in=[h.paper_id for h in results.hits])
                 .in_bulk().values())
    by_id = {p.pk: p.published_on for p in dates}
    ordered = [by_id[h.paper_id] for h in results.hits]
    assert ordered == sorted(ordered, reverse=True)


def test_pages_do_not_overlap(indexed_demo):
    first = search_papers("learning", mode="bm25", limit=10)
    second = search_papers("learning", mode="bm25", limit=10, offset=10)
    assert first.total == second.total > 20
    assert not {h.paper_id for h in first.hits} & {h.paper_id for h in second.hits}


def test_unusable_queries_get_a_friendly_message(indexed_demo):
    for text in ["", "   ", "🎉", "AND OR NOT", '"', "-"]:
        results = search_papers(text)
        assert results.hits == [] and results.message


def test_a_query_matching_nothing_says_so(indexed_demo):
    results = search_papers("qwxzvbnmkj", mode="bm25")
    assert results.total == 0 and "No papers match" in results.message


def test_without_embeddings_hybrid_falls_back_to_keywords(indexed_demo):
    results = search_papers("video diffusion", mode="hybrid")
    assert results.mode == "bm25" and results.hits


def test_the_search_command_prints_ranked_json(indexed_demo):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("search", "history guided video diffusion", "--mode", "bm25", "--limit", "3",
                 "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["hits"][0]["title"] == "History-Guided Video Diffusion"
    assert len(data["hits"]) == 3 and data["hits"][0]["score"] >= data["hits"][1]["score"]
