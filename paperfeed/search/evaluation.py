"""``paperfeed eval beir DIR``: nDCG@10 and recall@100 on a BEIR-format collection.

The collection is indexed into a fresh folder of its own (never the site's indexes) and
ranked by the site's own :class:`~paperfeed.search.engine.Engine`, with the site's query
parser and defaults. Document embeddings are cached by corpus content and model, so a
second run does not spend minutes re-embedding the same abstracts.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paperfeed.search import embeddings
from paperfeed.search.engine import MODES, Engine
from paperfeed.search.keyword import KeywordDoc
from paperfeed.search.query import parse_query

CHUNK = 256  # texts per cached chunk of embeddings
NAME = "beir"
HELP = "Index a BEIR-format folder into a fresh data dir and report nDCG@10 / recall@100."


def add_arguments(parser) -> None:
    parser.add_argument("directory", help="folder with corpus.jsonl, queries.jsonl, qrels/")
    parser.add_argument("--split", default="test", help="qrels/<split>.tsv (default: test)")
    parser.add_argument("--mode", choices=MODES, default="hybrid")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--data-dir", help="where to build the indexes (default: a new temp dir)")
    parser.add_argument("--cache-dir", help="embedding cache (default: <data dir>/embedding-cache)")
    parser.add_argument("--limit-queries", type=int, default=0, help="evaluate the first N only")


def load_beir(directory: Path, split: str):
    def jsonl(path: Path):
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    corpus = jsonl(directory / "corpus.jsonl")
    queries = {str(q["_id"]): q["text"] for q in jsonl(directory / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    with (directory / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].lstrip("-").isdigit():
                continue  # the header line
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return corpus, queries, qrels


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    """trec_eval's nDCG (linear gains), as BEIR reports it."""
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], judged: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def _cached_vectors(texts: list[str], model: str, cache_dir: Path, say) -> np.ndarray:
    """Embeddings of ``texts``, cached by content and model; an interrupted run resumes."""
    digest = hashlib.sha256(model.encode() + b"\0" + "\0".join(texts).encode()).hexdigest()[:20]
    path = cache_dir / f"{digest}.npy"
    if path.exists():
        return np.load(path)
    parts = cache_dir / f"{digest}.parts"
    parts.mkdir(parents=True, exist_ok=True)
    chunks = []
    started, fresh = time.monotonic(), 0
    for start in range(0, len(texts), CHUNK):
        part = parts / f"{start:09d}.npy"
        if part.exists():
            chunks.append(np.load(part))
            continue
        chunks.append(embeddings.embed(texts[start:start + CHUNK], model))
        np.save(part, chunks[-1])
        fresh += len(chunks[-1])
        rate = fresh / max(time.monotonic() - started, 1e-9)
        say(f"embedded {start + len(chunks[-1])}/{len(texts)} ({rate:.1f}/s)")
    matrix = np.vstack(chunks) if chunks else np.zeros((0, 384), np.float32)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, matrix)
    tmp.replace(path)
    for part in parts.glob("*.npy"):
        part.unlink()
    parts.rmdir()
    return matrix


def evaluate(directory: Path, *, split: str, mode: str, data_dir: Path, cache_dir: Path,
             limit_queries: int = 0, say=lambda _: None) -> dict:
    corpus, queries, qrels = load_beir(directory, split)
    engine = Engine(data_dir)
    doc_ids = [str(d["_id"]) for d in corpus]
    engine.keyword.clear()
    engine.keyword.upsert(
        (KeywordDoc(id=i, title=d.get("title", ""), abstract=d.get("text", ""))
         for i, d in enumerate(corpus)), threads=2, heap=200_000_000)
    say(f"indexed {len(corpus)} documents for keywords")
    if mode != "bm25":
        texts = [embeddings.paper_text(d.get("title", ""), d.get("text", "")) for d in corpus]
        matrix = _cached_vectors(texts, engine.model_name, cache_dir, say)
        engine.vectors.rebuild([(np.arange(len(corpus)), matrix)], total=len(corpus))
    judged_queries = [q for q in qrels if q in queries]
    if limit_queries:
        judged_queries = judged_queries[:limit_queries]
    ndcg = recall = 0.0
    for qid in judged_queries:
        results = engine.rank(parse_query(queries[qid]), mode=mode, limit=100)
        ranked = [doc_ids[h.paper_id] for h in results.hits]
        ndcg += ndcg_at(ranked, qrels[qid])
        recall += recall_at(ranked, qrels[qid])
    n = len(judged_queries) or 1
    return {"ndcg@10": round(ndcg / n, 4), "recall@100": round(recall / n, 4),
            "queries": len(judged_queries), "mode": mode}


def run(options: dict, stdout) -> int:
    from django.conf import settings

    directory = Path(options["directory"])
    if not (directory / "corpus.jsonl").exists():
        print(f"{directory} has no corpus.jsonl: not a BEIR-format folder.", file=sys.stderr)
        return 2
    if not (directory / "qrels" / f"{options['split']}.tsv").exists():
        print(f"{directory}/qrels/{options['split']}.tsv is missing.", file=sys.stderr)
        return 2
    cache_dir = Path(options.get("cache_dir") or settings.DATA_DIR / "embedding-cache")
    quiet = options.get("json")

    def say(text: str) -> None:
        if not quiet:
            stdout.write(text)
        else:
            print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="pf-beir-") as tmp:
        data_dir = Path(options.get("data_dir") or tmp)
        result = evaluate(directory, split=options["split"], mode=options["mode"],
                          data_dir=data_dir, cache_dir=cache_dir,
                          limit_queries=options.get("limit_queries") or 0, say=say)
    stdout.write(json.dumps(result))
    return 0
