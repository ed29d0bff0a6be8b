"""What a reader sees, in a real browser (headless Debian Chromium via Playwright)."""

import datetime as dt

import pytest
import time_machine

from paperfeed.sources.demo import load_demo_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server):
    load_demo_corpus()
    with time_machine.travel(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), tick=True):
        yield live_server.url


def test_a_reader_opens_the_daily_page_and_follows_a_paper(site, page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site}/papers/date/2025-09-28")
    assert page.title().startswith("Papers of September 28, 2025")
    first = page.locator("ol.papers > li").first
    assert first.locator(".votes .count").is_visible()
    link = page.get_by_role("link", name="Group-Relative REINFORCE Is Secretly an Off-Policy Algorithm", exact=False)
    link.click()
    page.wait_for_url("**/papers/group-relative-reinforce-**")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text().startswith("Group-Relative REINFORCE Is Secretly an Off-Policy Algorithm")
    body = page.locator("main").inner_text()
    assert "8 authors" in body and "September 28, 2025" in body and "Abstract" in body
    assert page.locator(".votes-large .count").inner_text() == "2"
    # The feed date links back to its day.
    page.get_by_role("link", name="September 28, 2025").click()
    page.wait_for_url("**/papers/date/2025-09-28")
    assert errors == []


def test_the_demo_opens_on_a_full_day_of_named_authors_whose_links_resolve(site, page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site}/papers")
    rows = page.locator("ol.papers > li")
    assert rows.count() >= 20
    checked = 0
    for i in range(rows.count()):
        row = rows.nth(i)
        title = row.locator(".paper-title").inner_text()
        names = row.locator(".row-authors a")
        assert names.count() >= 1, title  # every row of this day names its authors
        links = [names.nth(j) for j in range(names.count())]
        links += [row.locator("a.organization")] if row.locator("a.organization").count() else []
        for link in links:
            response = page.request.get(site + link.get_attribute("href"))
            assert response.ok, (title, link.inner_text())
            assert title in response.text(), (title, link.inner_text())
            checked += 1
    assert checked >= 60
    # And by clicking, as a reader would.
    first = rows.first
    name = first.locator(".row-authors a").first.inner_text()
    title = first.locator(".paper-title").inner_text()
    first.locator(".row-authors a").first.click()
    page.wait_for_url("**/papers/authors/**")
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_role("link", name=title).count() == 1
    page.go_back()
    organization = page.locator("ol.papers a.organization").first
    org_name = organization.inner_text()
    organization.click()
    page.wait_for_url("**/papers/organizations/**")
    assert page.get_by_role("heading", level=1).inner_text() == org_name
    assert page.locator("ol.papers > li").count() >= 1
    assert errors == []


def test_the_day_picker_and_day_navigation_work_without_scripts(site, page):
    page.goto(f"{site}/papers")
    assert "July 31, 2026" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_label("Go to day").fill("2025-09-28")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url("**/papers/date/2025-09-28")
    page.get_by_role("link", name="← Previous day").click()
    page.wait_for_url("**/papers/date/2025-09-2*")
    assert page.locator("ol.papers > li").count() >= 1


def test_pages_fit_a_phone_screen_in_dark_mode(site, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme="dark",
                                  is_mobile=True)
    phone = context.new_page()
    for path in ["/papers/month/2025-09", "/papers/all"]:
        phone.goto(site + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 17, 21)"
    context.close()
