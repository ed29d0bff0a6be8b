"""Embeddings for the recommender, from the search app's configured model."""

from __future__ import annotations

import numpy as np


def embed_texts(texts: list[str]) -> np.ndarray:
    from paperfeed.search.service import embed_texts as search_embed

    return search_embed(texts)
