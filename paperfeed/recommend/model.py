"""A per-user recommender that explains itself.

Three signals, each learned from the user's own papers (upvoted, saved, imported into
their library) against background papers and papers they marked "not interested":

1. a linear SVM over hashed words and bigrams (what arxiv-sanity does with tf-idf),
2. a linear SVM over sentence embeddings (meaning beyond shared words),
3. nearest-neighbour similarity: the mean cosine of a paper to its 3 closest papers of
   the user's (what "similar to X you upvoted" says).

Each signal is put on one scale — standard deviations above the mean of the user's
background papers — and the three are added (the neighbour term at half weight). The
scale is fixed when the model is trained, so a paper scores the same whether it comes
alone or in a batch: the daily job scores only new papers against stored models.
On the seed pages this beats arxiv-sanity's tf-idf SVM at every number of upvotes we
tried (docs/benchmarks.md, `paperfeed eval recommend`).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

NEIGHBOURS = 3
NEIGHBOUR_WEIGHT = 0.5
# Keep the strongest lexical weights only: a stored model stays small (~30 KB).
LEXICAL_WEIGHTS_KEPT = 4000
C = 0.1


@dataclass
class UserModel:
    lex_index: np.ndarray  # int32 feature ids of the kept lexical weights
    lex_weight: np.ndarray  # float32
    lex_bias: float
    sem_weight: np.ndarray  # float32, one per embedding dimension
    sem_bias: float
    positives: np.ndarray  # float32 (n, dim): the user's papers' embeddings, for neighbours
    scale: np.ndarray  # float32 (3, 2): mean and std of each signal on background papers

    def _signals(self, lexical: sp.csr_matrix, semantic: np.ndarray) -> np.ndarray:
        """Raw signals, one row each; NaN where a paper has no embedding (or the model none)."""
        # Scatter the kept weights into a dense vector: a sparse-matrix-vector product is
        # far cheaper than selecting columns of a CSR matrix.
        dense = np.zeros(lexical.shape[1], dtype=np.float32)
        dense[self.lex_index] = self.lex_weight
        lex = lexical @ dense + self.lex_bias
        n = semantic.shape[0]
        if self.positives.shape[0] == 0 or semantic.shape[1] == 0:
            return np.vstack([lex, np.full(n, np.nan), np.full(n, np.nan)])
        missing = np.isnan(semantic).any(axis=1)
        filled = np.where(missing[:, None], 0.0, semantic).astype(np.float32)
        sem = np.where(missing, np.nan, filled @ self.sem_weight + self.sem_bias)
        near = np.where(missing, np.nan, neighbour_similarity(filled, self.positives))
        return np.vstack([lex, sem, near])

    def score(self, lexical: sp.csr_matrix, semantic: np.ndarray) -> np.ndarray:
        if lexical.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        z = (self._signals(lexical, semantic) - self.scale[:, :1]) / self.scale[:, 1:]
        # No embedding: the semantic signals count as an average background paper's.
        z = np.nan_to_num(z, nan=0.0)
        return (z[0] + z[1] + NEIGHBOUR_WEIGHT * z[2]).astype(np.float32)

    def nearest_positive(self, semantic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each paper, the index of the user's most similar paper and that cosine."""
        sims = semantic @ self.positives.T
        best = sims.argmax(axis=1)
        return best, sims[np.arange(len(best)), best]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, lex_index=self.lex_index, lex_weight=self.lex_weight,
            lex_bias=np.float32(self.lex_bias), sem_weight=self.sem_weight,
            sem_bias=np.float32(self.sem_bias), positives=self.positives.astype(np.float16),
            scale=self.scale,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> UserModel:
        arrays = np.load(io.BytesIO(data))
        return cls(
            lex_index=arrays["lex_index"], lex_weight=arrays["lex_weight"],
            lex_bias=float(arrays["lex_bias"]), sem_weight=arrays["sem_weight"],
            sem_bias=float(arrays["sem_bias"]), positives=arrays["positives"].astype(np.float32),
            scale=arrays["scale"],
        )


def neighbour_similarity(semantic: np.ndarray, positives: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    if positives.shape[0] == 0:
        return np.zeros(semantic.shape[0], dtype=np.float32)
    sims = semantic @ positives.T
    k = min(k, positives.shape[0])
    top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    return top.mean(axis=1)


def _fit_svm(features, labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    svm = LinearSVC(C=C, class_weight="balanced", max_iter=5000, tol=1e-3)
    svm.fit(features, labels, sample_weight=weights)
    return svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0])


def train(
    pos_lexical: sp.csr_matrix, pos_semantic: np.ndarray,
    neg_lexical: sp.csr_matrix, neg_semantic: np.ndarray,
    neg_weights: np.ndarray | None = None,
) -> UserModel:
    """Fit a user's model. Negatives are background papers (weight 1) and papers the
    user dismissed (weight > 1: an explicit "not interested" says more than silence)."""
    n_pos, n_neg = pos_lexical.shape[0], neg_lexical.shape[0]
    if n_pos == 0 or n_neg == 0:
        raise ValueError("a model needs at least one paper of the user's and one background paper")
    labels = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    weights = np.r_[np.ones(n_pos), neg_weights if neg_weights is not None else np.ones(n_neg)]
    lex_w, lex_b = _fit_svm(sp.vstack([pos_lexical, neg_lexical]).tocsr(), labels, weights)
    # Only papers with embeddings train the semantic part; without any on either side
    # the model has words alone.
    dim = pos_semantic.shape[1]
    pos_ok = ~np.isnan(pos_semantic).any(axis=1) if dim else np.zeros(n_pos, bool)
    neg_ok = ~np.isnan(neg_semantic).any(axis=1) if dim else np.zeros(n_neg, bool)
    if pos_ok.any() and neg_ok.any():
        ok = np.r_[pos_ok, neg_ok]
        sem_w, sem_b = _fit_svm(np.vstack([pos_semantic, neg_semantic])[ok], labels[ok], weights[ok])
        positives = pos_semantic[pos_ok].astype(np.float32)
    else:
        sem_w, sem_b, positives = np.zeros(dim, np.float32), 0.0, np.zeros((0, dim), np.float32)
    kept = np.flatnonzero(lex_w)
    if len(kept) > LEXICAL_WEIGHTS_KEPT:
        strongest = np.argpartition(-np.abs(lex_w[kept]), LEXICAL_WEIGHTS_KEPT - 1)
        kept = kept[strongest[:LEXICAL_WEIGHTS_KEPT]]
    kept = np.sort(kept).astype(np.int32)
    model = UserModel(kept, lex_w[kept], lex_b, sem_w, sem_b, positives,
                      np.zeros((3, 2), dtype=np.float32))
    background = model._signals(neg_lexical, neg_semantic)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no embeddings at all
        mean, std = np.nanmean(background, axis=1), np.nanstd(background, axis=1)
    mean, std = np.nan_to_num(mean), np.nan_to_num(std)
    model.scale = np.stack([mean, np.where(std > 1e-9, std, 1.0)], axis=1).astype(np.float32)
    return model


def score_many(models: list[UserModel], lexical: sp.csr_matrix, semantic: np.ndarray,
               top: int = 50, adjust=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Score one day's new papers for many users at once; each user's ``top`` best.

    Lexical and semantic weights of all users are stacked into two matrices, so the
    work is two matrix products instead of a loop of small ones; neighbours are done per
    user (their papers differ in number). Returns (paper indices, scores) per user,
    best first. ``adjust(i, scores)``, if given, may change user i's scores in place
    before the top is taken (topic bonus, excluded papers set to -inf).
    """
    n_papers = lexical.shape[0]
    if not models or n_papers == 0:
        return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)) for _ in models]
    rows = np.repeat(np.arange(len(models)), [len(m.lex_index) for m in models])
    cols = np.concatenate([m.lex_index for m in models])
    data = np.concatenate([m.lex_weight for m in models])
    lex_weights = sp.csr_matrix((data, (rows, cols)), shape=(len(models), lexical.shape[1]))
    lex = (lexical @ lex_weights.T).toarray().T + np.array([m.lex_bias for m in models])[:, None]
    missing = np.isnan(semantic).any(axis=1) if semantic.shape[1] else np.ones(n_papers, bool)
    filled = np.where(missing[:, None], 0.0, semantic).astype(np.float32)
    sem = np.stack([m.sem_weight for m in models]) @ filled.T
    sem += np.array([m.sem_bias for m in models])[:, None]
    results = []
    k = min(top, n_papers)
    for i, model in enumerate(models):
        if model.positives.shape[0] == 0:
            sem_i = near = np.full(n_papers, np.nan)
        else:
            sem_i = np.where(missing, np.nan, sem[i])
            near = np.where(missing, np.nan, neighbour_similarity(filled, model.positives))
        signals = np.vstack([lex[i], sem_i, near])
        z = np.nan_to_num((signals - model.scale[:, :1]) / model.scale[:, 1:], nan=0.0)
        score = z[0] + z[1] + NEIGHBOUR_WEIGHT * z[2]
        if adjust is not None:
            adjust(i, score)
        best = np.argpartition(-score, k - 1)[:k]
        best = best[np.argsort(-score[best], kind="stable")]
        results.append((best, score[best].astype(np.float32)))
    return results
