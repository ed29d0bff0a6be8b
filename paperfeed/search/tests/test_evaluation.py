"""``paperfeed eval beir`` on a tiny BEIR-format collection written by the test."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from paperfeed.search.evaluation import ndcg_at, recall_at

DOCS = {
    "d1": ("Vitamin D and bone density", "Vitamin D supplements increase bone mineral density."),
    "d2": ("Statins and heart disease", "Statins lower cholesterol and cardiac events."),
    "d3": ("Sleep and memory", "Sleep consolidates memory in adolescents."),
    "d4": ("Coffee consumption", "Coffee drinking is associated with lower mortality."),
    "d5": ("Exercise and depression", "Aerobic exercise reduces symptoms of depression."),
}
QUERIES = {"q1": "does vitamin d help bones", "q2": "cholesterol lowering drugs heart",
           "q3": "physical activity improves mood", "q4": "unjudged query"}
QRELS = [("q1", "d1", 1), ("q2", "d2", 2), ("q3", "d5", 1)]


@pytest.fixture
def beir_dir(tmp_path):
    root = tmp_path / "mini"
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as f:
        for doc_id, (title, text) in DOCS.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS))
    return root


def test_ndcg_matches_hand_computed_values():
    assert ndcg_at(["a", "b"], {"a": 1}) == 1.0
    assert ndcg_at(["b", "a"], {"a": 1}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    # Graded: the grade-2 document belongs first.
    assert ndcg_at(["x", "y"], {"x": 1, "y": 2}) == pytest.approx(
        (1 + 2 / 1.5849625) / (2 + 1 / 1.5849625), rel=1e-6)
    assert ndcg_at(["z"], {"a": 1}) == 0.0
    assert recall_at(["a", "c"], {"a": 1, "b": 1, "c": 0}) == 0.5


def _run(*args) -> dict:
    out = io.StringIO()
    call_command("eval", "beir", *args, "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_bm25_eval_reports_the_contract_fields(beir_dir, tmp_path):
    result = _run(str(beir_dir), "--mode", "bm25", "--cache-dir", str(tmp_path / "cache"))
    assert set(result) == {"ndcg@10", "recall@100", "queries", "mode"}
    assert result["queries"] == 3 and result["mode"] == "bm25"
    # q3 shares no word with its document: keywords alone cannot find it.
    assert result["recall@100"] == pytest.approx(2 / 3, abs=1e-3)


def test_hybrid_eval_uses_the_model_and_caches_embeddings(beir_dir, tmp_path):
    cache = tmp_path / "cache"
    result = _run(str(beir_dir), "--mode", "hybrid", "--cache-dir", str(cache))
    assert result["mode"] == "hybrid" and result["recall@100"] == 1.0
    assert result["ndcg@10"] > 0.9
    assert len(list(cache.glob("*.npy"))) == 1
    assert _run(str(beir_dir), "--mode", "dense", "--cache-dir", str(cache))["ndcg@10"] > 0.9


def test_a_folder_that_is_not_beir_is_refused(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("eval", "beir", str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
