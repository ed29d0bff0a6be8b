"""axe-core (Deque's accessibility engine, vendored from npm: tests/vendor/axe-core) run in
Chromium on the main pages at a phone's and a laptop's width: no serious or critical
violation. ``scripts/vendor-axe.sh`` refreshes the vendored copy from the npm registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperfeed.tests.conftest import SIZES, sign_in

pytestmark = [pytest.mark.browser]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0-2.2 A and AA plus axe's best practices (heading order, landmarks, ...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    page.evaluate(AXE.read_text())
    return page.evaluate("""(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id,
        impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""",
                         TAGS)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_main_pages_have_no_serious_accessibility_violations(site, browser, size, scheme):
    # The CSP refuses injected script, as it should; axe is the tester's, not the page's.
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    pages = site.pages()
    found = {}
    page.goto(site.url + pages["sign-in"])
    found["sign-in"] = axe_violations(page)
    sign_in(page, site)
    for name in ["daily", "trending", "paper", "search", "for you"]:
        page.goto(site.url + pages[name])
        found[name] = axe_violations(page)
    page.goto(f"{site.url}{site.paper_url}#comments")  # the thread, with its tools open
    page.locator(".comment-actions summary", has_text="Reply").first.click()
    page.locator(".comment-actions summary", has_text="Delete").first.click()
    # axe's target-size counts whatever scrolled under the sticky header as covered; what
    # matters is the page's own layout, so it looks from the top.
    page.evaluate("window.scrollTo(0, 0)")
    found["comments"] = axe_violations(page)
    context.close()
    serious = {name: [v for v in violations if v["impact"] in ("serious", "critical")]
               for name, violations in found.items()}
    print(json.dumps(found, indent=1))  # every finding, for the record (pytest -s)
    assert {name: v for name, v in serious.items() if v} == {}
