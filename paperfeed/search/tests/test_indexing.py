"""Incremental keyword indexing through ``papers_changed``, seen by every process."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper
from paperfeed.papers.records import PaperRecord
from paperfeed.search.keyword import KeywordDoc, KeywordIndex
from paperfeed.search.query import parse_query
from paperfeed.search.service import get_engine, search_papers


def _record(arxiv_id: str, title: str, version: int = 1, abstract: str = "") -> PaperRecord:
    return PaperRecord(source="arxiv-api", original_id=f"{arxiv_id}v{version}",
                       arxiv_id=arxiv_id, version=version, title=title, abstract=abstract)


def _ids(query: str) -> list[int]:
    return [h.paper_id for h in search_papers(query, mode="bm25").hits]


def test_an_ingested_paper_is_searchable_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        apply_records([_record("2402.00001", "Zebrafish fin regeneration atlas")])
    assert _ids("zebrafish") == [Paper.objects.get(arxiv_id="2402.00001").pk]


def test_a_new_version_replaces_the_old_text(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        apply_records([_record("2402.00001", "Zebrafish fin regeneration atlas")])
    with django_capture_on_commit_callbacks(execute=True):
        apply_records([_record("2402.00001", "Axolotl limb regeneration atlas", version=2)])
    pk = Paper.objects.get(arxiv_id="2402.00001").pk
    assert _ids("zebrafish") == [] and _ids("axolotl") == [pk]
    assert get_engine().keyword.num_docs == 1


def test_a_hidden_paper_leaves_the_index(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        apply_records([_record("2402.00001", "Zebrafish fin regeneration atlas")])
    paper = Paper.objects.get(arxiv_id="2402.00001")
    paper.status = Paper.Status.HIDDEN
    paper.save()
    from paperfeed.papers.signals import papers_changed

    papers_changed.send(sender=Paper, paper_ids=[paper.pk])
    assert _ids("zebrafish") == []


def test_the_index_survives_a_restart(tmp_path):
    KeywordIndex(tmp_path).upsert([KeywordDoc(id=7, title="Persistent homology of point clouds")])
    reopened = KeywordIndex(tmp_path)
    assert reopened.search(parse_query("homology"))[0][0][0] == 7


def test_another_process_sees_a_commit_without_restarting(tmp_path):
    reader = KeywordIndex(tmp_path)
    assert reader.search(parse_query("homology"))[1] == 0
    # The writer is a separate OS process, as an ingest worker would be.
    script = (
        "import sys; from paperfeed.search.keyword import KeywordIndex, KeywordDoc;"
        "KeywordIndex(sys.argv[1]).upsert([KeywordDoc(id=9, title='Persistent homology')])"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    assert reader.search(parse_query("homology"))[0][0][0] == 9


def test_writers_take_turns_instead_of_failing(tmp_path):
    index = KeywordIndex(tmp_path)
    errors: list[BaseException] = []

    def write(start: int) -> None:
        try:
            for i in range(start, start + 5):
                KeywordIndex(tmp_path).upsert([KeywordDoc(id=i, title=f"paper number {i}")])
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert index.num_docs == 15


@pytest.mark.django_db
def test_reindex_rebuilds_from_the_database(django_capture_on_commit_callbacks, search_dir):
    from django.core.management import call_command

    apply_records([_record("2402.00001", "Zebrafish fin regeneration atlas")])
    assert _ids("zebrafish") == []  # no on_commit here: the index missed it
    call_command("reindex", stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    assert len(_ids("zebrafish")) == 1


@pytest.mark.django_db
def test_a_rebuild_streams_every_visible_paper_and_stored_vector_in_pages():
    import numpy as np

    from paperfeed.search.embeddings import configured_model
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.models import PaperEmbedding

    apply_records([_record(f"2402.{n:05d}", f"Lamprey paper {n}") for n in range(7)])
    papers = list(Paper.objects.order_by("pk"))
    Paper.objects.filter(pk=papers[3].pk).update(status=Paper.Status.HIDDEN)
    rng = np.random.default_rng(1)
    stored = {p.pk: rng.normal(size=384).astype(np.float32) for p in papers}
    PaperEmbedding.objects.bulk_create([
        PaperEmbedding(paper_id=pk, model=configured_model(), text_hash="x",
                       vector=PaperEmbedding.pack(v)) for pk, v in stored.items()])
    engine = get_engine()
    engine.keyword.upsert([KeywordDoc(id=999_999, title="lamprey left over")])
    # Pages of 2 rows: four pages of visible papers, the last one short.
    keywords, vectors = rebuild(engine, batch_size=2)
    assert (keywords, vectors) == (6, 6)
    assert sorted(_ids("lamprey")) == sorted(p.pk for p in papers if p.pk != papers[3].pk)
    got = engine.vectors.get([p.pk for p in papers])
    assert sorted(got) == sorted(p.pk for p in papers if p.pk != papers[3].pk)
    for pk, vector in got.items():  # float16 in the database, decoded once per batch
        assert np.allclose(vector, stored[pk], atol=1e-2)


def test_replace_all_swaps_the_whole_index_in_one_commit(tmp_path):
    index = KeywordIndex(tmp_path)
    index.upsert([KeywordDoc(id=1, title="old newt")])

    def docs():
        yield KeywordDoc(id=2, title="new newt")
        assert index.search(parse_query("newt"), limit=5)[1] == 1  # still the old one
        yield KeywordDoc(id=3, title="another newt")

    assert index.replace_all(docs()) == 2
    assert index.num_docs == 2 and index.search(parse_query("old"), limit=5)[1] == 0
