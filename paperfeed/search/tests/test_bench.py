"""The search benchmark's exact baseline for recall is itself exact."""

from __future__ import annotations

import numpy as np

from paperfeed.search.bench import _exact_top


def test_streamed_exact_top_k_equals_a_full_sort():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(1000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.choice(1000, 7, replace=False)] + 0.1
    ids = np.arange(1, 1001, dtype=np.uint64)
    batches = [(ids[i:i + 128], vectors[i:i + 128]) for i in range(0, 1000, 128)]
    found = _exact_top(queries, iter(batches), 20)
    expected = ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :20]]
    assert found.shape == (7, 20)
    assert (found == expected).all()


def test_bench_follow_adds_the_same_batch_both_ways_and_the_reader_sees_it(tmp_path):
    from paperfeed.search.benchfollow import _markdown, bench_vectors

    measured = bench_vectors(2000, 50, tmp_path)
    assert measured["before_s"] > 0 and measured["after_s"] > 0
    assert "before: load the whole file" in _markdown({"vectors": measured})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base-2000.usearch", "tmp"]
