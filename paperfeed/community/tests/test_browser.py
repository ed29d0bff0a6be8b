"""Headless Chromium against a live server: payloads stay text, votes work without reload."""

from __future__ import annotations

import pytest

from paperfeed.community import comments
from paperfeed.community.tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = {
    "title": 'Robust <script>window.__xss = "title"</script> learning',
    "abstract": ('We show <img src=x onerror="window.__xss = \'abstract\'"> and '
                 '<a href="javascript:window.__xss=\'link\'">this</a> and <svg onload="window.__xss=1">.'),
    "comment": ('Nice <script>window.__xss="comment"</script> '
                '<img src=x onerror="window.__xss=\'comment-img\'"> '
                '[click me](javascript:window.__xss="comment-link") '
                '<a href="javascript:window.__xss=\'raw-link\'">raw</a>'),
}


def _sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()


def test_markup_in_titles_abstracts_and_comments_never_runs(page, live_server):
    paper = factories.paper(PAYLOADS["title"], abstract=PAYLOADS["abstract"])
    author = factories.member("mallory")
    comments.post_comment(author, paper, PAYLOADS["comment"])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for url in (paper.get_absolute_url(), "/papers/date/2026-11-20", "/users/mallory/"):
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, url
    page.goto(live_server.url + paper.get_absolute_url())
    # The payloads are on the page as text a reader can see.
    assert "<script>" in page.inner_text("h1")
    assert 'onerror="window.__xss' in page.inner_text(".abstract-full")
    body = page.inner_text(".comment-body")
    assert "<script>" in body and "onerror" in body
    # No element carries an event handler or a javascript: link.
    assert page.evaluate("""() => [...document.querySelectorAll('*')].filter(el =>
        [...el.attributes].some(a => a.name.startsWith('on') ||
            /^\\s*javascript:/i.test(a.value))).length""") == 0
    assert page.locator("main script").count() == 0
    page.get_by_text("click me").click()  # a stripped link goes nowhere
    assert page.evaluate("window.__xss") is None
    assert dialogs == []


def test_a_member_upvotes_without_a_page_reload(page, live_server):
    factories.member("ada")
    paper = factories.paper("A paper to like", upvotes_imported=41)
    _sign_in(page, live_server, "ada")
    page.goto(live_server.url + "/papers/date/2026-11-20")
    page.evaluate("window.__same_page = true")
    row = page.locator("li.paper", has_text="A paper to like")
    assert row.locator(".votes .count").inner_text() == "41"
    row.get_by_role("button", name="Upvote").click()
    page.wait_for_function(
        "() => document.querySelector('li.paper .votes .count').textContent === '42'")
    assert page.evaluate("window.__same_page") is True  # no reload happened
    assert row.locator("button").get_attribute("aria-pressed") == "true"
    paper.refresh_from_db()
    assert paper.upvotes_local == 1
    # Taking it back works the same way, and the state survives a reload.
    row.locator("button").click()
    page.wait_for_function(
        "() => document.querySelector('li.paper .votes .count').textContent === '41'")
    page.reload()
    assert page.locator("li.paper button.vote-button").get_attribute("aria-pressed") == "false"


def test_voting_still_works_with_javascript_off(browser, live_server):
    factories.member("ada")
    paper = factories.paper("A paper for plain forms", upvotes_imported=3)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in(page, live_server, "ada")
        page.goto(live_server.url + paper.get_absolute_url())
        page.click(".community-actions button.vote-button")
        page.wait_for_load_state()
        assert page.url.endswith(paper.get_absolute_url())
        assert page.inner_text(".paper-page-head .votes .count") == "4"
        assert page.get_attribute(".community-actions button.vote-button", "aria-pressed") == "true"
    finally:
        context.close()


def test_a_visitor_who_clicks_upvote_is_asked_to_sign_in_and_comes_back(page, live_server):
    factories.member("ada")
    factories.paper("A paper for newcomers", upvotes_imported=7)
    page.goto(live_server.url + "/papers/date/2026-11-20")
    page.get_by_role("button", name="Upvote").click()
    page.wait_for_url("**/accounts/login/**")
    assert "next=%2Fpapers%2Fdate%2F2026-11-20" in page.url
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/papers/date/2026-11-20")
