"""The search page in headless Chromium, from the header box to the next page."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]


@pytest.fixture
def indexed_live(transactional_db, live_server, search_dir):
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.service import get_engine
    from paperfeed.sources.demo import load_demo_corpus

    load_demo_corpus()
    rebuild(get_engine())
    return live_server


def test_a_visitor_searches_from_the_header_and_pages_through(indexed_live, page, settings):
    settings.PAPERFEED = {**settings.PAPERFEED, "PAGE_SIZE": 10}
    page.goto(f"{indexed_live.url}/papers/all")
    page.get_by_role("searchbox", name="Search papers").fill("video diffusion")
    page.keyboard.press("Enter")
    page.wait_for_url("**/papers/search?q=video+diffusion")
    first = page.locator("ol.papers li.paper").first
    assert "History-Guided Video Diffusion" in first.locator(".paper-title").inner_text()
    assert page.locator("mark").count() > 5
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**page=2")
    assert page.get_by_text("Page 2 of").is_visible()
    page.get_by_role("link", name="newest").click()
    page.wait_for_url("**sort=newest**")
    assert "page=" not in page.url and page.locator("ol.papers li.paper").count() == 10
    page.locator("ol.papers .paper-title a").first.click()
    assert page.get_by_role("heading", name="Related papers").is_visible()
