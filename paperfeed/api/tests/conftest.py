from __future__ import annotations

import copy

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    """Rate limiting off unless a test asks for it (``@pytest.mark.rate_limited``-style fixture)."""
    settings.PAPERFEED = {**copy.deepcopy(settings.PAPERFEED), "API_RATE_LIMIT": 0}


@pytest.fixture
def rate_limit(settings):
    def configure(limit: int, window: int = 60) -> None:
        settings.PAPERFEED = {**settings.PAPERFEED, "API_RATE_LIMIT": limit,
                              "API_RATE_WINDOW": window}
    return configure


@pytest.fixture
def client() -> Client:
    # A host the default ALLOWED_HOSTS accepts, so absolute URLs look like a real install's.
    return Client(SERVER_NAME="127.0.0.1")


@pytest.fixture(autouse=True)
def search_dir(tmp_path, monkeypatch):
    """A fresh search index folder per test (read by the search app when it is installed),
    so no test finds papers another test indexed."""
    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(tmp_path / "search"))
