"""Each search test gets its own index folder, so no test sees another's documents."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def search_dir(tmp_path, monkeypatch):
    directory = tmp_path / "search"
    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(directory))
    return directory


@pytest.fixture
def indexed_demo(demo_corpus):
    """The demo corpus (~390 real papers) in the keyword index; no embeddings."""
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.service import get_engine

    rebuild(get_engine())
    return demo_corpus
