"""``paperfeed bench recommend``: the daily cost of recommendations for many users.

Every day only the new papers are scored, against user models that are retrained only
when a user's papers change. We time, on real abstracts (SciFact and arXiv records,
resampled to the sizes asked for):

* training: one model per user from their papers and a background sample;
* the daily job: scoring a day's new papers for every user (`score_many`);
* the baseline, in the same run: arxiv-sanity's way — a tf-idf SVM per user trained on
  the whole corpus — timed for a few users and extrapolated.

Embedding vectors are random unit vectors of the model's size: computing a million real
ones takes days on this machine, and the cost of scoring does not depend on their
values (the search benchmark measures embedding throughput).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from paperfeed.lib.benchmarks import peak_rss_mb, write_section
from paperfeed.recommend import model as rec
from paperfeed.recommend.features import lexical_features

NAME = "recommend"
HELP = "Time training and daily scoring of recommendations for many users."


def add_arguments(parser) -> None:
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=1_000_000, help="corpus size")
    parser.add_argument("--new-per-day", type=int, default=3_000)
    parser.add_argument("--likes", type=int, default=30, help="papers per user")
    parser.add_argument("--background", type=int, default=1_000, help="negatives per user model")
    parser.add_argument("--baseline-users", type=int, default=2)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared")
    parser.add_argument("--no-docs", action="store_true")


def _texts(shared: Path, n: int, rng: np.random.Generator) -> list[str]:
    pool: list[str] = []
    corpus = shared / "bench" / "scifact" / "corpus.jsonl"
    abs_file = shared / "fixtures" / "arxiv-abs" / "arxiv_browse_abs.jsonl"
    for path, title, text in ((corpus, "title", "text"), (abs_file, "title", "abstract")):
        if path.exists():
            with path.open() as handle:
                for line in handle:
                    row = json.loads(line)
                    pool.append(f"{row.get(title, '')}. {row.get(text, '')}")
    if not pool:
        raise SystemExit(f"no real texts found under {shared}")
    picks = rng.integers(0, len(pool), size=n)
    return [pool[i] for i in picks]


def _unit(rng: np.random.Generator, n: int, dim: int = 384) -> np.ndarray:
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def run(options: dict, stdout) -> int:
    rng = np.random.default_rng(0)
    users, likes, background = options["users"], options["likes"], options["background"]
    pool_size = min(options["papers"], 50_000)  # features of papers that users' models see
    texts = _texts(options["shared"], pool_size, rng)
    started = time.perf_counter()
    pool_lex = lexical_features(texts)
    pool_sem = _unit(rng, pool_size)
    features_s = time.perf_counter() - started

    started = time.perf_counter()
    models = []
    for _ in range(users):
        liked = rng.choice(pool_size, size=likes, replace=False)
        negatives = rng.choice(pool_size, size=background, replace=False)
        models.append(rec.train(pool_lex[liked], pool_sem[liked], pool_lex[negatives], pool_sem[negatives]))
    train_s = time.perf_counter() - started
    stored = sum(len(m.to_bytes()) for m in models[:100]) / min(users, 100)

    new_texts = _texts(options["shared"], options["new_per_day"], rng)
    started = time.perf_counter()
    new_lex, new_sem = lexical_features(new_texts), _unit(rng, options["new_per_day"])
    for start in range(0, users, 1000):
        rec.score_many(models[start:start + 1000], new_lex, new_sem, top=50)
    daily_s = time.perf_counter() - started

    # Baseline: arxiv-sanity trains on the whole corpus per user. Time it on the pool and
    # scale linearly to the corpus size (LinearSVC's cost grows with the number of rows).
    from paperfeed.recommend.baseline import TfidfSVM

    baseline = TfidfSVM(texts)
    started = time.perf_counter()
    for _ in range(options["baseline_users"]):
        baseline.rank(list(rng.choice(pool_size, size=likes, replace=False)), list(range(pool_size)))
    per_user_pool = (time.perf_counter() - started) / options["baseline_users"]
    baseline_daily_s = per_user_pool * options["papers"] / pool_size * users

    report = {
        "users": users, "papers": options["papers"], "new_per_day": options["new_per_day"],
        "train_all_users_s": round(train_s, 1), "train_per_user_ms": round(1000 * train_s / users, 2),
        "daily_scoring_s": round(daily_s, 1), "model_bytes": int(stored),
        "baseline_daily_s_extrapolated": round(baseline_daily_s), "features_s": round(features_s, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    stdout.write(json.dumps(report))
    if not options["no_docs"]:
        write_section("recommend-cost", "\n".join([
            "## Recommendations: daily cost (`paperfeed bench recommend`)",
            "",
            f"{users:,} users with {likes} papers each, a corpus of {options['papers']:,} papers and "
            f"{options['new_per_day']:,} new papers a day (real abstracts; random unit vectors stand in "
            "for embeddings, whose values do not change the cost).",
            "",
            "| step | time |",
            "|---|---|",
            f"| train all {users:,} user models ({background:,} background papers each) | {train_s:.1f} s ({1000 * train_s / users:.1f} ms a user) |",
            f"| daily job: score {options['new_per_day']:,} new papers for every user, keep the top 50 | {daily_s:.1f} s |",
            f"| baseline (arxiv-sanity: tf-idf SVM over the whole corpus, per user), extrapolated from {options['baseline_users']} users on {pool_size:,} papers | {baseline_daily_s:,.0f} s |",
            "",
            f"Stored model: {stored / 1024:.0f} KiB a user. Peak RSS {peak_rss_mb():.0f} MiB. "
            f"The daily job is {baseline_daily_s / max(daily_s, 1e-9):,.0f}× cheaper than retraining arxiv-sanity's way; "
            "models are retrained only for users whose papers changed.",
        ]))
    return 0
