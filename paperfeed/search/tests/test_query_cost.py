"""What one search request costs: a query is embedded once per process, on one thread,
and its page is served from the page cache until an ingest changes what matches."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from django.contrib.auth import get_user_model
from django.urls import reverse

from paperfeed.community.votes import set_vote
from paperfeed.papers import pagecache
from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper
from paperfeed.papers.records import PaperRecord
from paperfeed.search import embeddings, engine
from paperfeed.search.indexing import embed_pending, rebuild
from paperfeed.search.service import get_engine, search_papers

PAPERS = [
    ("2401.00001", "Protein structure prediction with deep learning",
     "We predict the three-dimensional folding of amino acid chains from sequence alone."),
    ("2401.00002", "Graph neural networks for molecule property prediction",
     "Message passing over atoms and bonds predicts chemical properties of molecules."),
    ("2401.00004", "Galaxy rotation curves and dark matter halos",
     "We measure how fast stars orbit in spiral galaxies to constrain dark matter."),
]


@pytest.fixture
def embedded(db):
    apply_records([PaperRecord(source="arxiv-api", original_id=aid, arxiv_id=aid, title=t,
                               abstract=a, authors=("A. Author",)) for aid, t, a in PAPERS])
    rebuild(get_engine())
    embed_pending(get_engine())
    engine._query_vectors.clear()
    return {p.arxiv_id: p.pk for p in Paper.objects.all()}


def test_a_query_on_one_thread_is_the_vector_a_batch_gives():
    before = torch.get_num_threads()
    one = embeddings.embed_query("dark matter halos")
    batch = embeddings.embed(["dark matter halos", "protein folding"])[0]
    assert np.allclose(one, batch, atol=1e-5)
    assert torch.get_num_threads() == before  # the process's setting is given back


def test_a_repeated_query_is_embedded_once_and_ranks_the_same(embedded, monkeypatch):
    calls = []
    real = embeddings.embed_query
    monkeypatch.setattr(embeddings, "embed_query",
                        lambda text, name=None: calls.append(text) or real(text, name))
    first = search_papers("invisible mass in the universe", limit=3)
    second = search_papers("invisible mass in the universe", limit=3)
    assert calls == ["invisible mass in the universe"]
    assert [(h.paper_id, h.score) for h in first.hits] == [(h.paper_id, h.score)
                                                          for h in second.hits]
    assert first.hits[0].paper_id == embedded["2401.00004"]  # found by meaning, not words
    search_papers("protein folding", limit=3)
    assert calls[-1] == "protein folding"


def test_the_query_cache_keeps_the_latest_queries(embedded, monkeypatch):
    monkeypatch.setattr(engine, "QUERY_CACHE_SIZE", 2)
    for text in ("galaxies", "molecules", "proteins"):
        search_papers(text, limit=1)
    assert [text for _, text in engine._query_vectors] == ["molecules", "proteins"]
    cached = engine._query_vectors[(get_engine().model_name, "proteins")]
    with pytest.raises(ValueError):
        cached[0] = 1.0  # shared by requests: nobody may change it


def _without_csrf(response) -> str:
    # Each answer masks the CSRF token anew; everything else must be the same bytes.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_the_search_page_is_served_from_the_cache_until_an_ingest_not_a_vote(
        client, embedded, django_capture_on_commit_callbacks):
    url = reverse("search:search") + "?q=galaxy+rotation"
    first = client.get(url)
    hits = pagecache.stats["hits"]
    again = client.get(url)
    assert pagecache.stats["hits"] == hits + 1
    assert _without_csrf(again) == _without_csrf(first)
    member = get_user_model().objects.create_user("voter", "voter@example.org", "pw-12345678")
    galaxy = Paper.objects.get(pk=embedded["2401.00004"])
    shown = galaxy.upvotes_imported + galaxy.upvotes_local
    with django_capture_on_commit_callbacks(execute=True):
        set_vote(member, galaxy, True)
    # A vote changes no query's matches: its count shows here within the listing TTL.
    assert f'class="count">{shown}<' in client.get(url).content.decode()
    assert pagecache.stats["hits"] == hits + 2
    with django_capture_on_commit_callbacks(execute=True):  # an ingest changes what matches
        apply_records([PaperRecord(source="arxiv-api", original_id="2401.00009",
                                   arxiv_id="2401.00009", title="Galaxy rotation, revisited",
                                   abstract="Rotation curves again.", authors=("B. Author",))])
    after = client.get(url)
    assert pagecache.stats["hits"] == hits + 2  # rendered afresh
    assert f'class="count">{shown + 1}<' in after.content.decode()


def test_a_warmed_up_process_answers_its_first_search_without_embedding_the_model_anew(
        embedded, monkeypatch):
    from paperfeed.search.service import warm_up

    calls = []
    real = embeddings.embed_query
    monkeypatch.setattr(embeddings, "embed_query",
                        lambda text, name=None: calls.append(text) or real(text, name))
    assert warm_up() > 0 and calls == ["warm up"]  # by meaning too: vectors are stored
    assert get_engine().model_name in embeddings._models


def test_warming_up_an_index_without_vectors_loads_no_model(db, monkeypatch):
    from paperfeed.search.service import warm_up

    monkeypatch.setattr(embeddings, "embed_query", lambda *a, **k: pytest.fail("embedded"))
    assert warm_up() >= 0


def test_a_failed_warm_up_is_logged_and_search_loads_on_first_use(db, monkeypatch, caplog):
    from paperfeed.search import service

    def broken():
        raise OSError("search index folder is not readable")

    monkeypatch.setattr(service, "get_engine", broken)
    assert service.warm_up() is None
    assert "could not warm up" in caplog.text and "not readable" in caplog.text


def test_a_follower_applying_changes_retires_search_results(client, embedded):
    from paperfeed.papers import changelog
    from paperfeed.search.follower import follower_for

    follower_for(get_engine()).catch_up()  # up to date
    url = reverse("search:search") + "?q=galaxy+rotation"
    client.get(url)
    hits = pagecache.stats["hits"]
    client.get(url)
    assert pagecache.stats["hits"] == hits + 1
    # Another host's embedding worker, say: the log names a paper; this host applies it.
    Paper.objects.filter(pk=embedded["2401.00004"]).update(title="Galaxy rotation curves, indexed")
    changelog.record([embedded["2401.00004"]])
    assert follower_for(get_engine()).catch_up() == 1
    assert "curves, indexed" in client.get(url).content.decode()  # (the words are marked)
    assert pagecache.stats["hits"] == hits + 1  # rendered afresh
    assert follower_for(get_engine()).catch_up() == 0  # nothing applied: nothing retired
    client.get(url)
    assert pagecache.stats["hits"] == hits + 2


def test_search_results_are_kept_as_long_as_papers_pages_in_a_shared_cache(settings):
    from django.core.cache.backends.locmem import LocMemCache

    from paperfeed.papers import pagegen

    settings.PAGE_CACHE_SECONDS, settings.PAPER_PAGE_CACHE_SECONDS = 60, 600
    shared = not isinstance(__import__("django.core.cache").core.cache.caches["default"],
                            LocMemCache)
    assert pagegen.ttl(pagegen.SEARCHES) == (600 if shared else 60)
    assert pagegen.ttl(pagegen.LISTINGS) == 60
