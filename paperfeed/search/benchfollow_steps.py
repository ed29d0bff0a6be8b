"""The steps of ``paperfeed bench follow`` (search/benchfollow.py) that run as their own
process in the scratch database's environment:

``python -m paperfeed.search.benchfollow_steps seed START COUNT | ingest RATE SECONDS LOG |
phase LABEL | embed-seed COUNT | embed-reset | embed-check SINCE WORKERS``

``phase`` also runs as a file with another checkout first on ``PYTHONPATH`` (the
baseline), so nothing here imports the bench itself at module level.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def _records(rng, start: int, count: int, marker: str = ""):
    from paperfeed.papers.records import PaperRecord
    from paperfeed.search.benchfollow import WORDS

    for n in range(start, start + count):
        words = " ".join(rng.choice(WORDS, 8))
        yield PaperRecord(source="kaggle", original_id=f"9{n:09d}", arxiv_id=f"9{n // 100000:03d}."
                          f"{n % 100000:05d}", version=1, title=f"{marker} {words}".strip(),
                          abstract=" ".join(rng.choice(WORDS, 60)), categories=("cs.LG",))


def _seed(start: int, count: int) -> None:
    from paperfeed.papers import prepared
    from paperfeed.papers.models import Paper
    from paperfeed.search.benchfollow import _unit
    from paperfeed.search.embeddings import configured_model
    from paperfeed.search.models import PaperEmbedding

    rng = np.random.default_rng([11, start])
    preparer = prepared.Preparer()
    model = configured_model()
    for first in range(start, start + count, 2000):
        batch = list(_records(rng, first, min(2000, start + count - first)))
        items = [preparer.prepare(r, r.content_hash(), i) for i, r in enumerate(batch)]
        prepared.apply_prepared(items, lambda item, b=batch: b[item.payload])
    pks = list(Paper.objects.filter(search_embedding__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(pks), 5000):
        chunk = pks[start:start + 5000]
        vectors = _unit(rng, len(chunk))
        PaperEmbedding.objects.bulk_create([
            PaperEmbedding(paper_id=pk, model=model, text_hash="bench",
                           vector=PaperEmbedding.pack(v)) for pk, v in zip(chunk, vectors,
                                                                          strict=True)])


def _ingest(rate: int, seconds: int, log: Path) -> None:
    from paperfeed.papers.merge import apply_records

    rng = np.random.default_rng(int(time.time()))
    per_batch = 100
    interval = per_batch / (rate / 60)
    started = time.monotonic()
    n = 0
    with open(log, "a") as out:
        while time.monotonic() - started < seconds:
            marker = f"zqmark{n}x"
            apply_records(list(_records(rng, 50_000_000 + n * per_batch, per_batch, marker)))
            out.write(json.dumps([marker, time.time()]) + "\n")
            out.flush()
            n += 1
            time.sleep(max(0.0, started + n * interval - time.monotonic()))


def _embed_seed(count: int) -> None:
    """``count`` real titles and abstracts (SciFact's corpus, from the shared data) as papers."""
    from paperfeed.lib.benchmarks import SHARED
    from paperfeed.papers.merge import apply_records
    from paperfeed.papers.records import PaperRecord

    corpus = SHARED / "bench" / "scifact" / "corpus.jsonl"
    if not corpus.exists():
        raise SystemExit(f"{corpus} is missing: the embedding benchmark reads real abstracts "
                         "from the shared data folder (PAPERFEED_SHARED_DIR)")
    records = []
    with open(corpus) as lines:
        for n, line in enumerate(lines):
            if n == count:
                break
            doc = json.loads(line)
            records.append(PaperRecord(source="kaggle", original_id=f"8{n:09d}",
                                       arxiv_id=f"8{n // 100000:03d}.{n % 100000:05d}",
                                       version=1, title=doc["title"], abstract=doc["text"],
                                       categories=("q-bio.QM",)))
    if len(records) < count:
        raise SystemExit(f"{corpus} holds only {len(records)} documents, not {count}")
    apply_records(records)


def _embed_reset() -> None:
    from paperfeed.search.models import PaperEmbedding

    PaperEmbedding.objects.all().delete()


def _embed_check(since: float, workers: int) -> None:
    """The embedding rows now, and the steady rate (JSON on stdout).

    Steady: from the moment every worker has committed its first batch (the ``workers``-th
    batch; model loading is over) to the last commit, the rows committed in between. A
    batch's rows are written within milliseconds; batches are told apart by a gap.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT paper_id) FROM search_paperembedding")
        total, distinct = cursor.fetchone()
        cursor.execute("SELECT extract(epoch FROM created_at) FROM search_paperembedding "
                       "ORDER BY created_at")
        times = [float(row[0]) for row in cursor.fetchall()]
    batches: list[list[float]] = []
    for at in times:
        if batches and at - batches[-1][-1] < 0.05:
            batches[-1].append(at)
        else:
            batches.append([at])
    steady = None
    if len(batches) > workers:
        start = batches[workers - 1][-1]
        rows = sum(len(b) for b in batches[workers:])
        steady = rows / (batches[-1][-1] - start)
    print(json.dumps({"embeddings": total, "distinct": distinct, "batches": len(batches),
                      "first_commit_s": (times[0] - since) if times else None,
                      "steady_rate": steady}))


def _phase(label: str) -> None:
    """A rebuild's database reading and keyword writing without the HNSW build, by the
    ``paperfeed`` on PYTHONPATH (this checkout or a baseline's): the vector index's rebuild
    only drains the batches it is given. JSON on stdout."""
    from paperfeed.search import indexing
    from paperfeed.search.service import get_engine

    engine = get_engine()
    drained: dict = {}

    def drain(batches, total=None) -> int:  # noqa: ARG001
        started = time.monotonic()
        count = sum(len(ids) for ids, _ in batches)
        drained.update(vectors=count, vector_read_s=time.monotonic() - started)
        return count

    engine.vectors.rebuild = drain
    started = time.monotonic()
    keywords, _ = indexing.rebuild(engine)
    total = time.monotonic() - started
    print(json.dumps({"code": label, "keywords": keywords, "total_s": total,
                      "keyword_s": total - drained["vector_read_s"], **drained,
                      "load": os.getloadavg()[:2]}))


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    django.setup()
    if sys.argv[1] == "seed":
        _seed(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "ingest":
        _ingest(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    elif sys.argv[1] == "phase":
        _phase(sys.argv[2])
    elif sys.argv[1] == "embed-seed":
        _embed_seed(int(sys.argv[2]))
    elif sys.argv[1] == "embed-reset":
        _embed_reset()
    elif sys.argv[1] == "embed-check":
        _embed_check(float(sys.argv[2]), int(sys.argv[3]))
