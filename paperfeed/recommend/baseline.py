"""arxiv-sanity's recommender, as the baseline we must beat.

arxiv-sanity ranks papers for a user with a linear SVM trained on tf-idf vectors of
every paper: the user's papers are the positives, everything else the negatives
(class-balanced), and papers are ranked by the SVM's decision value. Its original
release used C=0.1; arxiv-sanity-lite defaults to C=0.01. We run both and compare
against the stronger.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


class TfidfSVM:
    def __init__(self, texts: list[str], C: float = 0.1):
        self.C = C
        self.features = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, stop_words="english",
            strip_accents="unicode", max_features=20000,
        ).fit_transform(texts)

    def rank(self, liked: list[int], candidates: list[int]) -> np.ndarray:
        labels = np.zeros(self.features.shape[0])
        labels[liked] = 1
        svm = LinearSVC(C=self.C, class_weight="balanced", max_iter=20000, tol=1e-6)
        svm.fit(self.features, labels)
        return svm.decision_function(self.features[candidates])
