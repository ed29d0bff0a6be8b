from __future__ import annotations

import gzip
import io
import itertools
import json

import pytest

from paperfeed.lib.arxiv_ids import parse_arxiv_id
from paperfeed.sources import bench, kaggle


def test_new_ids_are_valid_and_unique():
    ids = [bench._new_id(n) for n in itertools.chain(range(0, 300_000, 997), [1_999_999])]
    assert len(set(ids)) == len(ids)
    assert all(parse_arxiv_id(i).base == i for i in ids)


def test_the_generated_stream_is_a_valid_snapshot_past_the_first_pass(shared_dir, tmp_path):
    # The first 30 real listing lines, so the stream needs three passes for 70 records.
    real = shared_dir / "bench/arxiv-listings/arxiv_browse_listings.jsonl.gz"
    with gzip.open(real, "rb") as source:
        head = list(itertools.islice(source, 30))
    listings = tmp_path / "listings.jsonl.gz"
    listings.write_bytes(gzip.compress(b"".join(head)))
    unique = len({json.loads(line)["id"] for line in head})
    stream = io.BytesIO(b"".join(bench.kaggle_lines(shared_dir, 70, listings)))
    result = kaggle.KaggleResult()
    records = list(kaggle.read_records(stream, result))
    assert result.errors == [] and len(records) == 70
    assert len({r.arxiv_id for r in records}) == 70
    assert records[unique].arxiv_id == bench._new_id(unique)  # the second pass renumbers
    assert all(r.abstract and r.title and r.categories and r.versions for r in records)


def test_renumbered_ids_of_a_million_records_never_hit_a_real_listing(shared_dir):
    # Found by the first 1M run: ids from 1501 on collided with 5,124 real 2015 ids. The
    # generator now refuses a listing in the renumbered range (the full listings end in
    # 2023); here the vendored sample passes and the ids stay above every real one.
    listings = shared_dir / "bench/arxiv-listings/arxiv_browse_listings.jsonl.gz"
    with gzip.open(listings, "rt") as lines:
        real = {json.loads(line)["id"] for line in lines}
    generated = [bench._new_id(n) for n in range(0, 1_000_000, 7)]
    assert not real & set(generated)
    assert min(generated) == bench.FIRST_RENUMBERED and len(set(generated)) == len(generated)
    for real_id in real:
        bench._check_not_renumbered(real_id)


def test_a_listing_inside_the_renumbered_range_is_refused(shared_dir, tmp_path):
    listings = tmp_path / "listings.jsonl.gz"
    row = {"id": "2502.00017", "authors": "A. Author", "title": "T", "categories": "cs.LG",
           "versions": [{"version": "v1", "date": "Mon, 3 Feb 2025 10:00:00 GMT"}]}
    listings.write_bytes(gzip.compress(json.dumps(row).encode() + b"\n"))
    with pytest.raises(ValueError, match="2502.00017 is in the range the benchmark renumbers"):
        list(bench.kaggle_lines(shared_dir, 1, listings))


def test_the_benchmark_runs_end_to_end_and_checks_the_index(shared_dir, tmp_path, monkeypatch):
    # A small run of the real thing: a child process per backend, a fresh database,
    # parsing workers, and the search index caught up at the end.
    import io

    monkeypatch.delenv("PAPERFEED_SEARCH_DIR", raising=False)  # the child's own, in its data dir
    out = io.StringIO()
    code = bench.run({"records": 300, "batch_size": 64, "backends": ["sqlite"],
                      "shared": shared_dir, "no_write": True, "workers": 1}, out)
    text = out.getvalue()
    assert code == 0, text
    assert "sqlite: import" in text and "records/s, with the search index" in text
