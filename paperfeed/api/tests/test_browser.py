"""In a real browser: the API reference is self-hosted, and a paper page offers its citation."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.api.tests.factories import make_paper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_reference_loads_nothing_from_other_hosts(page, live_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs")
    assert page.get_by_role("heading", name="GET /api/daily_papers").is_visible()
    assert page.get_by_role("link", name="/api/openapi.json").is_visible()
    submit = page.locator("#post-api-v1-submissions")  # a JSON body is documented too
    assert "arxiv_id required JSON body" in " ".join(submit.locator("tr").all_inner_texts()).replace("\t", " ")
    assert requested and all(url.startswith(live_server.url) for url in requested)


def test_a_paper_page_downloads_its_bibtex(page, live_server):
    make_paper(arxiv_id="2511.07777", title="Browsers cite papers too",
               authors=("Grace Hopper",), published_on=dt.date(2025, 11, 1))
    page.goto(f"{live_server.url}/papers/2511.07777")
    with page.expect_download() as download:
        page.get_by_role("link", name="BibTeX").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("@misc{hopper2025browsers,")
    assert "eprint = {2511.07777}" in text


def test_an_anchor_in_the_reference_lands_below_the_sticky_header(page, live_server):
    page.goto(f"{live_server.url}/api/docs#post-api-v1-submissions")
    heading = page.get_by_role("heading", name="POST /api/v1/submissions").bounding_box()
    header = page.locator(".site-header").bounding_box()
    assert heading["y"] >= header["y"] + header["height"]


def test_the_reference_shows_code_as_code_and_fits_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/api/docs")
    intro = page.locator(".api-docs > p").first
    assert "`" not in intro.inner_text()
    assert "/api/daily_papers" in intro.locator("code").all_inner_texts()
    assert "`" not in page.locator("main").inner_text()  # nor in any route's description
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    context.close()
