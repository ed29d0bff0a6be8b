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
    from paperfeed.search.benchfollow import bench_vectors, build_bases
    from paperfeed.search.benchfollow_report import markdown as _markdown

    built = build_bases([1000, 2000], tmp_path)
    assert sorted(built) == [1000, 2000] and built[2000]["grown_from"] == 0
    assert build_bases([2000], tmp_path) == {}  # kept and reused
    measured = bench_vectors(2000, 50, tmp_path)
    assert measured["before_s"] > 0 and measured["after_s"] > 0
    assert measured["before_s"] >= measured["before_read_s"] + measured["before_add_s"]
    text = _markdown({"vectors": [{**measured, **built[2000]}]})
    assert "| 2,000 |" in text and "0 → 2,000 at beam 32" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "base-1000.usearch", "base-2000.usearch", "build.json", "tmp"]


def test_a_stopped_base_build_continues_from_the_largest_base_there(tmp_path):
    import numpy as np
    from usearch.index import Index

    from paperfeed.search.benchfollow import build_bases

    build_bases([1000], tmp_path)
    built = build_bases([1500], tmp_path, expansion=8)
    assert built[1500]["grown_from"] == 1000 and built[1500]["build_expansion"] == 8
    bigger, smaller = (Index.restore(str(tmp_path / f"base-{n}.usearch")) for n in (1500, 1000))
    assert len(bigger) == 1500
    keys = np.arange(0, 1000, 97, dtype=np.uint64)
    assert np.array_equal(bigger.get(keys), smaller.get(keys))  # the same vectors, kept


def test_bench_follow_sizes_must_be_positive_whole_numbers():
    import pytest

    from paperfeed.search.benchfollow import _sizes

    assert _sizes("100_000,1000000") == [100_000, 1_000_000]
    for bad in ("", "1M", "0", "5,-1"):
        with pytest.raises(SystemExit, match="number"):
            _sizes(bad)


def test_bench_follow_reports_work_done_twice_by_embedding_workers():
    from paperfeed.search.benchfollow_report import markdown as _markdown

    def row(workers, per_worker, distinct, steady):
        return {"workers": workers, "threads": 2 // workers, "per_worker": per_worker,
                "wall_s": 10.0, "rate": sum(per_worker) / 10, "embeddings": distinct,
                "distinct": distinct, "steady_rate": steady, "load_before": (1, 1),
                "load": (2, 2)}

    text = _markdown({"embed": {"papers": 100, "cores": 2, "rows": [
        row(1, [100], 100, 4.0), row(2, [60, 44], 100, 6.0)]}})
    assert "| 1 | 2 | 100 | 10.0 s | 10.0 | 4.0 | 1.00 / 1.00 | 0 |" in text
    assert "| 2 | 1 | 60 + 44 | 10.0 s | 10.4 | 6.0 | 1.04 / 1.50 | 4 |" in text
