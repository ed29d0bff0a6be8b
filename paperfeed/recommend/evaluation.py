"""``paperfeed eval recommend``: simulated users from real topical paper sets.

Each saved Daily Papers page is a topical set of papers (the result of one search). A
simulated user upvotes k random papers of one page; the recommender ranks every other
paper, and the page's remaining papers are the relevant ones. We report precision@10
and nDCG@10 averaged over pages and trials for our recommender and for arxiv-sanity's
tf-idf + linear SVM (C=0.1 and C=0.01), on the same draws in the same run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperfeed.lib.text import title_key
from paperfeed.recommend import model as rec
from paperfeed.recommend.baseline import TfidfSVM
from paperfeed.recommend.features import lexical_features

NAME = "recommend"
HELP = "Simulate users from topical paper sets (the seed pages) and compare with arxiv-sanity's SVM."


def add_arguments(parser) -> None:
    parser.add_argument("pages", nargs="*", type=Path, metavar="PAGE",
                        help="saved listing pages, one topic each (default: the demo corpus)")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 3, 5, 10],
                        help="numbers of upvotes per simulated user")
    parser.add_argument("--trials", type=int, default=25, help="simulated users per page and k")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the figures to docs/benchmarks.md")


@dataclass
class Corpus:
    texts: list[str]
    topics: list[set[str]]  # the pages each paper is on


def load_pages(paths: list[Path]) -> Corpus:
    from paperfeed.sources.pages import parse_page

    by_key: dict[str, int] = {}
    texts: list[str] = []
    topics: list[set[str]] = []
    for path in paths:
        for entry in parse_page(path, today=dt.date.today()).entries:
            key = title_key(entry.title)
            if key not in by_key:
                by_key[key] = len(texts)
                texts.append(f"{entry.title}. {entry.abstract}")
                topics.append(set())
            topics[by_key[key]].add(path.name)
    return Corpus(texts, topics)


def ndcg_at_10(relevance: list[int], relevant_total: int) -> float:
    dcg = sum(r / math.log2(i + 2) for i, r in enumerate(relevance[:10]))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, relevant_total)))
    return dcg / ideal if ideal else 0.0


def _ours(lexical, semantic):
    def rank(liked: list[int], candidates: list[int]) -> np.ndarray:
        model = rec.train(lexical[liked], semantic[liked], lexical[candidates], semantic[candidates])
        return model.score(lexical[candidates], semantic[candidates])
    return rank


def simulate(corpus: Corpus, semantic: np.ndarray, ks: list[int], trials: int, seed: int) -> dict:
    lexical = lexical_features(corpus.texts)
    methods = {
        "paperfeed": _ours(lexical, semantic),
        "tfidf_svm_C0.1": TfidfSVM(corpus.texts, C=0.1).rank,
        "tfidf_svm_C0.01": TfidfSVM(corpus.texts, C=0.01).rank,
    }
    rng = np.random.default_rng(seed)
    pages = sorted({t for topics in corpus.topics for t in topics})
    results: dict = {}
    for k in ks:
        scores = {name: {"p@10": [], "ndcg@10": []} for name in methods}
        for page in pages:
            members = [i for i, topics in enumerate(corpus.topics) if page in topics]
            if len(members) <= k:
                continue
            for _ in range(trials):
                liked = sorted(rng.choice(members, size=k, replace=False).tolist())
                liked_set = set(liked)
                candidates = [i for i in range(len(corpus.texts)) if i not in liked_set]
                relevant_total = len(members) - k
                for name, rank in methods.items():
                    order = np.argsort(-rank(liked, candidates), kind="stable")
                    relevance = [int(page in corpus.topics[candidates[j]]) for j in order[:10]]
                    scores[name]["p@10"].append(sum(relevance) / 10)
                    scores[name]["ndcg@10"].append(ndcg_at_10(relevance, relevant_total))
        results[k] = {name: {m: round(float(np.mean(v)), 4) for m, v in s.items()}
                      for name, s in scores.items()}
    return results


def _markdown(results: dict, corpus: Corpus, trials: int) -> str:
    lines = [
        "## Recommendations: simulated users (`paperfeed eval recommend`)",
        "",
        f"{len(corpus.texts)} papers from the five seed pages; a user upvotes k papers of one "
        f"page, {trials} users per page and k; the rest of that page is relevant. "
        "Baseline: arxiv-sanity's tf-idf + linear SVM, same draws, same run.",
        "",
        "| k | paperfeed P@10 | nDCG@10 | tf-idf SVM C=0.1 P@10 | nDCG@10 | tf-idf SVM C=0.01 P@10 | nDCG@10 | gain in P@10 over the better baseline |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, row in results.items():
        ours, a, b = row["paperfeed"], row["tfidf_svm_C0.1"], row["tfidf_svm_C0.01"]
        best = max(a["p@10"], b["p@10"])
        lines.append(
            f"| {k} | {ours['p@10']:.3f} | {ours['ndcg@10']:.3f} | {a['p@10']:.3f} | {a['ndcg@10']:.3f} "
            f"| {b['p@10']:.3f} | {b['ndcg@10']:.3f} | {ours['p@10'] / best:.2f}× |"
        )
    return "\n".join(lines)


def run(options: dict, stdout) -> int:
    from paperfeed.recommend.vectors import embed_texts
    from paperfeed.sources.demo import demo_files

    paths = options["pages"] or demo_files()
    corpus = load_pages(paths)
    stdout.write(f"{len(corpus.texts)} papers on {len(paths)} pages; embedding…")
    semantic = embed_texts(corpus.texts)
    results = simulate(corpus, semantic, options["k"], options["trials"], options["seed"])
    for k, row in results.items():
        stdout.write(f"k={k}: " + "  ".join(f"{n} P@10={r['p@10']:.3f} nDCG@10={r['ndcg@10']:.3f}"
                                            for n, r in row.items()))
    if options["write_docs"]:
        from paperfeed.lib.benchmarks import write_section

        write_section("recommend-eval", _markdown(results, corpus, options["trials"]))
    if options["json"]:
        stdout.write(json.dumps({"papers": len(corpus.texts), "results": results}))
    return 0
