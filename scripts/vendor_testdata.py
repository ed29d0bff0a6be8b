#!/usr/bin/env python3
"""Copy the recorded data the tests read from ``../shared`` into ``testdata/``.

The test suite must run from a fresh clone with nothing beside it, so the recordings it
reads live in the repository. This script is how they got there, and how to refresh
them: it copies each file listed below (whole, or its first N lines where the tests need
only a sample), then writes ``testdata/MANIFEST.json`` with each file's origin, the
SHA-256 of the original and of the copy, and what was kept. ``test_testdata.py`` checks
the copies against the manifest, so recorded data cannot be edited by accident.

    python scripts/vendor_testdata.py [--shared ../shared]

Which files: those the suite opened when run with an audit hook on ``open``
(``sys.addaudithook``) against the full ``../shared`` on 2026-12-02, plus new tests' data.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "testdata"

# path under shared/ -> how many lines to keep (None: the whole file)
FILES: dict[str, int | None] = {
    **{f"fixtures/arxiv-api/{name}": None for name in [
        "LICENSE-arxiv.py.txt",
        "arxiv_api_cs.AI_LG_CL_2026-08-02.xml",
        "id_0000.0000_s0_m100_8b51d9633a68.json",
        "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json",
        "id_0808.05394_s0_m100_7b0c7d0a7cdd.json",
        "id_1605.08386_s0_m100_199195aa31ad.json",
        "id_1707.08567_s0_m100_6a1afebfc6a3.json",
        "id_2104.12255v1_s0_m100_6ae69987ffe1.json",
        "id_abc_s0_m100_b79c8dcf6bc3.json",
        "id_astro-ph_0601001_s0_m100_3150dca9dc76.json",
        "id_quant-ph_0201082v1_s0_m100_86989fe779ef.json",
        "q_testing_s0_m100_cfe7536492ca.json",
        "q_testing_s0_m10_bc5a6c384fe9.json",
        "q_testing_s0_m15_80c242b59d59.json",
        "q_testing_s10_m10_34e56e15aaac.json",
        "q_testing_s20_m10_348a237fecab.json",
        "q_testing_s30_m10_f2e39f0143dc.json",
        "q_testing_s40_m10_96dd32eb854c.json",
        "q_testing_s50_m10_7f488ab8598c.json",
        "q_testing_s5_m10_c0e94a259d4a.json",
        "q_testing_s5_m15_bbcf6b23085b.json",
        "q_testing_s9_m15_0b78d4b4d476.json",
    ]},
    "fixtures/arxiv-oai/arxiv-physics-hep-th.xml": None,
    "fixtures/arxiv-oai/atomiklabs_ListRecords_oai_dc_cs_2024-01-27.xml": None,
    "fixtures/arxiv-oai/invenio_listrecords_arXiv_cs.xml": None,
    "fixtures/arxiv-rss/allnewsai_arxiv_weekend_empty_rss.xml": None,
    "fixtures/arxiv-rss/distill_arxiv_cs_ai.xml": None,
    "fixtures/arxiv-rss/distill_arxiv_cs_cl.xml": None,
    "fixtures/arxiv-rss/distill_arxiv_cs_lg.xml": None,
    "fixtures/hf-api/allnewsai_hf_daily_papers.json": None,
    "fixtures/hf-api/personalnewsfeed_hf_daily_papers.json": None,
    "fixtures/hf-api/sotawhat_hf_daily_papers.json": None,
    "fixtures/kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl": None,
    "fixtures/kaggle-snapshot/wanng-ide_arxiv-metadata-oai-snapshot_first200.jsonl": None,
    "fixtures/kaggle-snapshot/wanng-ide_LICENSE": None,
    # The benchmarks' generator reads abstracts and listings; its tests need a sample.
    "fixtures/arxiv-abs/arxiv_browse_abs.jsonl": 200,
    "bench/arxiv-listings/arxiv_browse_listings.jsonl.gz": 300,
}

ORIGINS = {
    "fixtures/arxiv-api": "lukasschwab/arxiv.py tests (MIT, LICENSE-arxiv.py.txt); real API feeds "
                          "from public repositories' test fixtures",
    "fixtures/arxiv-oai": "AtomikLabs/aws-iac (MIT), inveniosoftware/invenio-oaiharvester, "
                          "inspirehep/hepcrawl (BSD-3)",
    "fixtures/arxiv-rss": "real rss.arxiv.org feeds from public repositories' test fixtures",
    "fixtures/hf-api": "real Hugging Face /api/daily_papers responses from public repositories' "
                       "test fixtures",
    "fixtures/kaggle-snapshot": "first 200 lines of Kaggle's arxiv-metadata-oai-snapshot.json "
                                "(arXiv metadata, CC0)",
    "fixtures/arxiv-abs": "records parsed from arXiv's own .abs test files (arXiv/arxiv-browse, MIT)",
    "bench/arxiv-listings": "arXiv listing records (arXiv/arxiv-browse, MIT)",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _head(data: bytes, lines: int, gzipped: bool) -> bytes:
    raw = gzip.decompress(data) if gzipped else data
    kept = b"".join(raw.splitlines(keepends=True)[:lines])
    # mtime=0: the same input gives the same bytes, so the manifest stays stable.
    return gzip.compress(kept, mtime=0) if gzipped else kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    shared = parser.parse_args().shared
    manifest = {}
    for name, lines in sorted(FILES.items()):
        original = (shared / name).read_bytes()
        copy = original if lines is None else _head(original, lines, name.endswith(".gz"))
        target = TARGET / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(copy)
        folder = "/".join(name.split("/")[:2])
        manifest[name] = {
            "origin": f"shared/{name}: {ORIGINS[folder]}",
            "kept": "whole file" if lines is None else f"first {lines} lines",
            "sha256_original": _sha256(original),
            "sha256": _sha256(copy),
        }
    # The demo's seed pages ship inside the package (they are the demo corpus); recorded
    # here so the tests can tell they are the saved pages, unchanged.
    for seed in sorted((shared / "seeds").glob("*.txt")):
        packaged = REPO / "paperfeed/papers/demo/seeds" / seed.name
        manifest[f"seeds/{seed.name}"] = {
            "origin": f"shared/seeds/{seed.name}: a page saved from Hugging Face Daily Papers",
            "kept": "whole file",
            "packaged_as": str(packaged.relative_to(REPO)),
            "sha256_original": _sha256(seed.read_bytes()),
            "sha256": _sha256(packaged.read_bytes()),
        }
    (TARGET / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"{len(manifest)} files in {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
