"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Recorded real responses and samples the tests read (scripts/vendor_testdata.py made them;
# testdata/README.md says where each came from). Laid out as ../shared is.
TESTDATA = REPO / "testdata"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # This machine has no network: without these Chromium keeps dialling out.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The recorded real data in ``testdata/`` (same layout as ``../shared``)."""
    return TESTDATA


@pytest.fixture(scope="session")
def demo_seeds() -> list[Path]:
    from paperfeed.sources.demo import demo_files

    return demo_files()


@pytest.fixture
def demo_corpus(db):
    from paperfeed.sources.demo import load_demo_corpus

    return load_demo_corpus()


@pytest.fixture
def arxiv_api_replay(shared_dir, monkeypatch):
    """Every recorded arXiv /api/query exchange, served on loopback and used by the site."""
    from paperfeed.sources.testing import ReplayServer

    with ReplayServer() as server:
        for exchange in sorted((shared_dir / "fixtures" / "arxiv-api").glob("*.json")):
            server.add_exchange(exchange)
        monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", server.url + "/api/query")
        yield server


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download needed)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/setup.sh --test")
    # Playwright's sync API refuses to run inside a running event loop; Django's
    # async-unsafe check would also trip on it, so it is allowed for the session.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _isolated_search_index(tmp_path_factory, monkeypatch):
    """Each test gets its own search index folder (search app).

    The index lives outside the database, so the rollback between tests would not clear
    it, and reused row ids would otherwise find another test's papers.
    """
    monkeypatch.setenv("PAPERFEED_SEARCH_DIR", str(tmp_path_factory.mktemp("search")))


@pytest.fixture(autouse=True)
def _trending_refreshed_inline(monkeypatch):
    """An overdue trending refresh runs in the reader's thread in tests: a thread's own
    connection would write past the test's transaction (test_trending_stored runs the
    real thread, with a transactional database)."""
    from paperfeed.papers import trending

    monkeypatch.setattr(trending, "in_background", lambda work: work())


@pytest.fixture(autouse=True)
def _fresh_pages(settings):
    """Each test starts with no cached pages: the database is rolled back between tests,
    so pages cached by one must not be served to the next. A new generation retires them
    (never cache.clear(): on a Redis cache that would flush a shared server's database)."""
    from paperfeed.papers import pagegen

    pagegen.retire_all()
    # A change shows on the very next request (test_pagecache tests the grace period).
    settings.PAGE_CACHE_MIN_SECONDS = 0
    yield
