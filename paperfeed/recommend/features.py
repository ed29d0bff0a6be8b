"""Lexical features for the recommender: hashed word and bigram counts.

Hashing needs no vocabulary, so a paper's features never change as the corpus grows:
new papers are scored against stored user models without refitting anything (tf-idf
would need corpus-wide document frequencies, recomputed as papers arrive). Counts are
log-damped and rows L2-normalised; the linear models learn which words matter.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

N_FEATURES = 2**18
_vectorizer = HashingVectorizer(
    n_features=N_FEATURES, ngram_range=(1, 2), alternate_sign=False, stop_words="english",
    norm=None, dtype=np.float32,
)


def lexical_features(texts: list[str]) -> sp.csr_matrix:
    matrix = _vectorizer.transform(texts).tocsr()
    np.log1p(matrix.data, out=matrix.data)
    return normalize(matrix)
