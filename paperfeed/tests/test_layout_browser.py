"""The layout in headless Chromium at a phone's 390x844 and a laptop's 1366x900, light and
dark: a compact header, no sideways scrolling, anchors below the header, touch targets,
the vote button's states, the comment tools, and no Content-Security-Policy violation."""

from __future__ import annotations

import pytest

from paperfeed.tests.conftest import DESKTOP, PHONE, SIZES, sign_in

pytestmark = [pytest.mark.browser]

SCHEMES = ["light", "dark"]
# Every CSP violation the page reports (the event fires for blocked inline script and style).
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber));
"""


def _context(browser, size, scheme="light", **options):
    context = browser.new_context(viewport=size, color_scheme=scheme, **options)
    context.add_init_script(CSP_WATCH)
    return context


def _member_page(browser, site, size, scheme="light"):
    """A page signed in as the site's member, in a fresh context (close the context)."""
    context = _context(browser, size, scheme)
    page = context.new_page()
    sign_in(page, site)
    return context, page


def _box(page, selector):
    return page.locator(selector).first.bounding_box()


def _check_header_and_width(page, name, size, scheme):
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 64, f"{name}: header {header['height']}px tall"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size} ({scheme})"
    # Everything the header row shows sits on that one row, and nothing in it is cut.
    tops = page.evaluate("""() => [...document.querySelectorAll('.header-row > *')]
        .filter(e => e.getClientRects().length && getComputedStyle(e).display !== 'none')
        .map(e => e.getBoundingClientRect()).filter(r => r.height > 0)
        .map(r => r.top + r.height / 2)""")
    assert max(tops) - min(tops) < 12, f"{name}: the header wraps ({tops})"
    clipped = page.evaluate(
        "(n => n.scrollWidth - n.clientWidth)(document.querySelector('.main-nav'))")
    assert clipped <= 0, f"{name}: the header's links are cut by {clipped}px"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_header_is_one_compact_row_and_no_page_scrolls_sideways(site, browser, size, scheme):
    visitor = _context(browser, SIZES[size], scheme)
    page = visitor.new_page()
    for name in ["daily", "paper", "sign-in"]:  # signed out: "Sign in" in the row
        page.goto(site.url + site.pages()[name])
        _check_header_and_width(page, name, size, scheme)
    visitor.close()
    context, page = _member_page(browser, site, SIZES[size], scheme)
    more = {"all": "/papers/all", "week": "/papers/week/2025-W47", "profile": "/users/ada/",
            "404": "/no/such/page", "403": "/moderation/"}
    for name, path in {**site.pages(), **more}.items():
        page.goto(site.url + path)
        _check_header_and_width(page, name, size, scheme)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(15, 17, 21)" if scheme == "dark" else "rgb(255, 255, 255)")
    assert page.evaluate("window.__csp") == []
    context.close()


def test_the_desktop_search_box_shows_its_whole_placeholder(site, browser):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.goto(site.url + "/papers")
    fits = page.evaluate("""() => {
        const input = document.getElementById('header-q');
        const style = getComputedStyle(input);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = style.font;
        const text = ctx.measureText(input.placeholder).width;
        const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return [text, room];
    }""")
    assert fits[0] <= fits[1], f"placeholder needs {fits[0]}px, has {fits[1]}px"
    assert page.locator("#header-q").is_visible()
    assert not page.locator(".search-toggle").is_visible()
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_phone_search_and_subscribe_open_from_icons(site, browser, javascript):
    context = _context(browser, PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(site.url + "/papers/trending")
    assert not page.locator("#header-q").is_visible()
    page.get_by_role("link", name="Search", exact=True).click()
    box = page.locator("#header-q")
    box.wait_for(state="visible")
    assert page.locator(".header-search").bounding_box()["y"] >= 50  # opens under the header
    box.fill("diffusion")
    box.press("Enter")
    page.wait_for_url("**/papers/search?q=diffusion")
    assert page.locator("ol.papers li.paper").count() > 0

    email = page.locator("#header-subscribe-email")
    assert not email.is_visible()
    page.locator(".header-menu > summary").click()
    assert email.is_visible()
    panel = page.locator(".menu-panel").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= PHONE["width"]
    if javascript:
        page.keyboard.press("Escape")
        assert not email.is_visible()
        assert page.evaluate("window.__csp") == []
    context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_comment_link_lands_below_the_sticky_header(site, browser, size):
    context = _context(browser, SIZES[size])
    page = context.new_page()
    page.goto(f"{site.url}{site.paper_url}#comment-{site.comment_id}")
    page.wait_for_timeout(200)
    header = _box(page, ".site-header")
    comment = _box(page, f"#comment-{site.comment_id}")
    assert comment["y"] >= header["y"] + header["height"], (comment, header)
    assert comment["y"] < SIZES[size]["height"] / 2  # and it is the thing in view
    context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_vote_button_is_large_keeps_its_width_and_shows_the_vote(site, browser, size, scheme):
    context, page = _member_page(browser, site, SIZES[size], scheme)
    for where in ["/papers", site.paper_url]:
        page.goto(site.url + where)
        button = page.locator("button.vote-button").first
        before = button.bounding_box()
        assert before["width"] >= 44 and before["height"] >= 44, (where, before)
        title = page.locator(".paper-title, h1").first.bounding_box()
        look = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el.querySelector('.vote-icon path')).fill, el.textContent.trim()]"
        off = button.evaluate(look)
        assert button.get_attribute("aria-pressed") == "false" and off[2] == "Upvote"
        button.click()
        page.wait_for_function("() => document.querySelector('button.vote-button').getAttribute('aria-pressed') === 'true'")
        on = button.evaluate(look)
        after = button.bounding_box()
        assert on[2] == "Upvoted"
        assert on[0] != off[0], "the voted state needs its own colour"
        assert on[1] != off[1] and off[1] == "none", "and its own icon (filled, not outlined)"
        assert (after["width"], after["height"]) == (before["width"], before["height"])
        assert page.locator(".paper-title, h1").first.bounding_box() == title  # nothing moved
        button.click()  # take it back for the next page
        page.wait_for_function("() => document.querySelector('button.vote-button').getAttribute('aria-pressed') === 'false'")
    assert page.evaluate("window.__csp") == []
    context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_touch_targets_are_big_enough(site, browser, size):
    context, page = _member_page(browser, site, SIZES[size])
    small = []
    for path in [site.paper_url, "/papers", "/papers/for-you", "/papers/search?q=diffusion"]:
        page.goto(site.url + path)
        small += page.evaluate("""(path) => {
            const found = [];
            const check = (selector, least) => document.querySelectorAll(selector).forEach(el => {
                const r = el.getBoundingClientRect();
                if (r.width && (r.width < least || r.height < least))
                    found.push(`${path} ${selector} "${el.textContent.trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)} < ${least}`);
            });
            check('button.vote-button', 44);
            check('.header-row > a, .main-nav a, .account-short a, .header-menu > summary, .header-search button', 44);
            check('.menu-panel a, .menu-panel button', 24);
            check('.comment-actions a, .comment-actions summary, .comment-actions button', 24);
            check('.chip, .links a, .pagination a, .period-nav a, .sort a, button.secondary', 24);
            check('main button, main summary', 24);
            return found;
        }""", path)
    assert small == [], "\n".join(small)
    context.close()


def test_comment_markdown_is_styled_and_delete_asks_first(site, browser):
    from paperfeed.community.models import Comment

    context, page = _member_page(browser, site, PHONE)
    page.goto(site.url + site.paper_url)
    body = page.locator(f"#comment-{site.comment_id} > .comment-body")
    heading = body.locator("h3")  # "## …" under the page's h1 and the Discussion h2
    assert heading.inner_text() == "What I liked"
    quote = body.locator("blockquote").evaluate("el => getComputedStyle(el).borderLeftWidth")
    assert quote == "4px"
    pre = body.locator("pre").evaluate("el => getComputedStyle(el).backgroundColor")
    assert pre != "rgba(0, 0, 0, 0)"
    levels = page.evaluate("[...document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6')].map(h => +h.tagName[1])")
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels

    actions = page.locator(f"#comment-{site.comment_id} > .comment-actions")
    actions.locator("summary", has_text="Delete").click()
    confirm = actions.get_by_role("button", name="Yes, delete it")
    assert confirm.is_visible()
    assert not Comment.objects.get(pk=site.comment_id).deleted  # opening asks, nothing more
    confirm.click()
    page.wait_for_load_state()
    assert Comment.objects.get(pk=site.comment_id).deleted
    assert page.evaluate("window.__csp") == []
    context.close()


@pytest.mark.parametrize("answer", ["django", "html proxy"])
def test_a_vote_with_a_stale_csrf_token_says_so_in_the_page(site, browser, answer):
    context, page = _member_page(browser, site, PHONE)
    page.goto(site.url + "/papers")
    # Another tab signed in again: the cookie's secret changed, this page's token did not.
    [cookie] = [c for c in context.cookies() if c["name"] == "csrftoken"]
    context.add_cookies([{**cookie, "value": "x" * 32}])
    if answer == "html proxy":  # a proxy (or an older server) answers with an HTML page
        page.route("**/votes/*/", lambda route: route.fulfill(
            status=403, content_type="text/html", body="<!doctype html><h1>Forbidden</h1>"))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.locator("button.vote-button").first.click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Reload the page" in alert.inner_text()
    assert "Unexpected token" not in page.locator("body").inner_text() and dialogs == []
    assert page.locator("button.vote-button").first.get_attribute("aria-pressed") == "false"
    context.close()


def test_the_comment_form_and_the_pages_run_without_csp_violations(site, browser):
    context, page = _member_page(browser, site, DESKTOP)
    page.goto(site.url + site.paper_url)
    page.fill("#comment-body", "A **new** comment")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_load_state()
    assert page.locator(".comment-body", has_text="A new comment").count() == 1
    page.locator(".header-menu > summary").click()
    assert page.locator("#header-subscribe-email").is_visible()
    assert page.evaluate("window.__csp") == []
    # The watch works and the policy is on: inline script is refused and reported.
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("window.__ran") is None
    context.close()


def test_a_for_you_row_and_its_why_line_share_one_separator(site, browser):
    context, page = _member_page(browser, site, PHONE)
    page.goto(site.url + "/papers/for-you")
    rows = page.evaluate("""() => [...document.querySelectorAll('.why-row')].map(why => {
        const article = why.previousElementSibling.querySelector('article');
        return [getComputedStyle(article).borderBottomWidth, getComputedStyle(why).borderBottomWidth,
                why.getBoundingClientRect().top >= article.getBoundingClientRect().bottom - 1];
    })""")
    assert rows, "the For-you page shows picks with a why line"
    assert all(row == ["0px", "1px", True] for row in rows), rows
    context.close()
