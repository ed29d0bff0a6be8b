"""The vector index updated in place: a base, segments per batch, compaction."""

from __future__ import annotations

import numpy as np
import pytest

from paperfeed.search import vectors as vectors_module
from paperfeed.search.vectors import VectorIndex

NDIM = 16


def _unit(rng, n: int) -> np.ndarray:
    x = rng.normal(size=(n, NDIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _same_as_exact(found: list[tuple[int, float]], model: dict[int, np.ndarray],
                   query: np.ndarray, k: int) -> bool:
    """The k best scores of an exact scan (to float16 precision), each from a live key."""
    best = np.sort(np.vstack(list(model.values())) @ query)[::-1][:k]
    scores = [float(model[key] @ query) for key, _ in found]  # KeyError: a dead key
    return len(found) == k and np.allclose(scores, best, atol=5e-3)


def _check(index: VectorIndex, model: dict[int, np.ndarray], rng) -> None:
    assert len(index) == len(model)
    for query in _unit(rng, 5):
        assert _same_as_exact(index.search(query, 10), model, query, 10)
    some = list(model)[:5] + [10_000]
    got = index.get(some)
    assert sorted(got) == sorted(list(model)[:5])
    for key, vector in got.items():
        assert np.allclose(vector, model[key], atol=1e-2)


@pytest.mark.parametrize("base_fraction", [0.1, 0.0])
def test_batches_of_adds_replacements_and_removals_match_exact_search(
        tmp_path, monkeypatch, base_fraction):
    monkeypatch.setattr(vectors_module, "BASE_FRACTION", base_fraction)
    monkeypatch.setattr(vectors_module, "BASE_MERGE_MIN", 0)
    rng = np.random.default_rng(1)
    writer, reader = VectorIndex(tmp_path, NDIM), VectorIndex(tmp_path, NDIM)
    model = dict(zip(range(500), _unit(rng, 500), strict=True))
    writer.rebuild([(np.arange(500), np.vstack(list(model.values())))])
    _check(reader, model, rng)
    for batch in range(13):
        added = list(range(500 + batch * 10, 510 + batch * 10))
        replaced = [batch * 7, 600 + batch]  # in the base, and maybe in a segment
        removed = [batch * 11 + 1, added[0] - 5]
        keys = added + [k for k in replaced if k in model or k < 500]
        new = _unit(rng, len(keys))
        writer.update(keys, new, remove=removed)
        model.update(zip(keys, new, strict=True))
        for key in removed:
            model.pop(key, None)
        _check(reader, model, rng)
        if batch % 3 == 2:
            while writer.compact():
                _check(reader, model, rng)
    while writer.compact():
        _check(reader, model, rng)
    manifest = writer._read_manifest()
    if base_fraction == 0.0:
        assert manifest["segments"] == []  # everything merged into the base
    else:
        assert len(manifest["segments"]) < 13
    listed = {manifest["base"]["file"]} | {
        name for seg in manifest["segments"] for name in (seg["file"], seg["keys"]) if name}
    on_disk = {p.name for p in tmp_path.iterdir() if p.suffix in (".usearch", ".npy")}
    assert on_disk == listed  # merged and replaced files were removed


def test_an_update_writes_only_the_batch(tmp_path):
    rng = np.random.default_rng(2)
    index = VectorIndex(tmp_path, NDIM)
    index.rebuild([(np.arange(2000), _unit(rng, 2000))])
    base = next(tmp_path.glob("base-*.usearch"))
    stamp = base.stat().st_mtime_ns
    index.update([5000], _unit(rng, 1))
    assert base.stat().st_mtime_ns == stamp
    segment = next(tmp_path.glob("seg-*.usearch"))
    assert segment.stat().st_size < base.stat().st_size / 100


def test_a_folder_from_before_segments_is_read_as_the_base(tmp_path):
    from usearch.index import Index

    rng = np.random.default_rng(3)
    old = Index(ndim=NDIM, metric="cos", dtype="f16")
    data = _unit(rng, 50)
    old.add(np.arange(50, dtype=np.uint64), data)
    old.save(str(tmp_path / "vectors.usearch"))
    index = VectorIndex(tmp_path, NDIM)
    assert len(index) == 50 and index.search(data[7], 1)[0][0] == 7
    index.update([7], _unit(rng, 1))
    assert len(index) == 50 and index.search(data[7], 1)[0][0] != 7
