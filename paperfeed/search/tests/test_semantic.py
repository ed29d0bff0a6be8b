"""The real all-MiniLM-L6-v2 model, on a handful of papers (loaded once per test process)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from django.core.management import call_command

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper
from paperfeed.papers.records import PaperRecord
from paperfeed.search.indexing import embed_pending, pending_embeddings, rebuild
from paperfeed.search.models import PaperEmbedding
from paperfeed.search.service import embed_texts, get_engine, related_papers, search_papers

PAPERS = [
    ("2401.00001", "Protein structure prediction with deep learning",
     "We predict the three-dimensional folding of amino acid chains from sequence alone."),
    ("2401.00002", "Graph neural networks for molecule property prediction",
     "Message passing over atoms and bonds predicts chemical properties of molecules."),
    ("2401.00003", "A survey of reinforcement learning for robot control",
     "Robots learn locomotion and manipulation policies from reward signals."),
    ("2401.00004", "Galaxy rotation curves and dark matter halos",
     "We measure how fast stars orbit in spiral galaxies to constrain dark matter."),
    ("2401.00005", "Speech recognition with transformers",
     "An encoder-decoder attention model transcribes spoken audio into text."),
]


@pytest.fixture
def small_corpus(db):
    apply_records([PaperRecord(source="arxiv-api", original_id=aid, arxiv_id=aid, title=t,
                               abstract=a, authors=("A. Author",)) for aid, t, a in PAPERS])
    rebuild(get_engine())
    return {p.arxiv_id: p.pk for p in Paper.objects.all()}


def test_embed_texts_gives_normalised_rows_from_the_real_model():
    vectors = embed_texts(["dark matter in galaxies", "stellar rotation", "tokenizers"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Related sentences are closer than unrelated ones: the weights are real.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_embedding_resumes_where_it_stopped(small_corpus):
    engine = get_engine()
    assert embed_pending(engine, batch_size=2, limit=2) == 2
    assert pending_embeddings(engine.model_name).count() == 3
    assert embed_pending(engine, batch_size=2) == 3
    assert PaperEmbedding.objects.count() == 5 and len(engine.vectors) == 5
    assert embed_pending(engine) == 0


def test_dense_search_finds_meaning_without_shared_words(small_corpus):
    embed_pending(get_engine())
    results = search_papers("how do amino acids fold", mode="dense", limit=2)
    assert results.mode == "dense"
    assert results.hits[0].paper_id == small_corpus["2401.00001"]
    # "universe" appears in no paper: keywords find nothing, meaning finds the galaxies.
    assert search_papers("invisible mass universe", mode="bm25").total == 0
    hybrid = search_papers("invisible mass universe", mode="hybrid", limit=1)
    assert hybrid.hits[0].paper_id == small_corpus["2401.00004"]


def test_a_paper_without_an_embedding_is_still_found_by_keywords(small_corpus):
    engine = get_engine()
    embed_pending(engine)
    late = apply_records([PaperRecord(source="arxiv-api", original_id="2401.00006",
                                      arxiv_id="2401.00006", title="Quasar spectra catalogue",
                                      abstract="Redshifts of distant quasars.")])
    assert late.new == 1
    pk = Paper.objects.get(arxiv_id="2401.00006").pk
    from paperfeed.search.indexing import index_papers

    index_papers(engine, [pk])
    results = search_papers("quasar redshifts", mode="hybrid")
    assert results.mode == "hybrid" and results.hits[0].paper_id == pk


def test_filters_apply_to_dense_results(small_corpus):
    embed_pending(get_engine())
    results = search_papers("protein folding -amino", mode="dense", limit=5)
    assert small_corpus["2401.00001"] not in {h.paper_id for h in results.hits}


def test_related_papers_uses_embeddings_then_keywords(small_corpus):
    engine = get_engine()
    molecules = small_corpus["2401.00002"]
    # No embeddings yet: shared title words ("prediction") decide.
    assert related_papers(molecules, limit=1) == [small_corpus["2401.00001"]]
    embed_pending(engine)
    related = related_papers(molecules, limit=4)
    assert molecules not in related and len(related) == 4
    assert related[0] == small_corpus["2401.00001"]


def test_reindex_restores_vectors_from_the_database_without_the_model(small_corpus, search_dir):
    embed_pending(get_engine())
    shutil.rmtree(search_dir / "vectors")
    call_command("reindex", stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    assert len(get_engine().vectors) == 5


def test_a_changed_abstract_is_embedded_again(small_corpus, django_capture_on_commit_callbacks):
    engine = get_engine()
    embed_pending(engine)
    with django_capture_on_commit_callbacks(execute=True):
        apply_records([PaperRecord(source="arxiv-api", original_id="2401.00005v2",
                                   arxiv_id="2401.00005", version=2,
                                   title="Speech recognition with transformers",
                                   abstract="A new abstract about sign language.")])
    assert list(pending_embeddings(engine.model_name).values_list("arxiv_id", flat=True)) == [
        "2401.00005"]


def test_the_embed_command_embeds_what_is_missing(small_corpus):
    import io

    call_command("embed", "--limit", "2", stdout=io.StringIO(), stderr=io.StringIO())
    assert PaperEmbedding.objects.count() == 2
