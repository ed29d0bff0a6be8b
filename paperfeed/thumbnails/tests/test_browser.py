"""In Chromium: every thumbnail really loads, and papers without one show a card."""

from __future__ import annotations

import pytest
from django.utils import timezone

from paperfeed.papers.tests.factories import paper
from paperfeed.sources.testing import Reply
from paperfeed.thumbnails import storage, worker
from paperfeed.thumbnails.models import Thumbnail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Scroll every image into view (they are lazy) and wait until each has loaded or failed.
LOAD_ALL = """async () => {
  const imgs = [...document.images];
  for (const img of imgs) {
    img.scrollIntoView();
    if (!img.complete) await new Promise(done => { img.onload = img.onerror = done; });
  }
  return imgs.map(img => ({src: img.getAttribute('src'), natural: img.naturalWidth,
                           loading: img.loading, shown: img.getBoundingClientRect().width}));
}"""


@pytest.mark.parametrize(("viewport", "scheme"), [((390, 844), "dark"), ((1366, 900), "light")],
                         ids=["phone-dark", "desktop-light"])
def test_thumbnails_load_and_papers_without_one_show_a_card(live_server, browser, pdf_server,
                                                            polite, paper_pdf, viewport, scheme):
    day = timezone.now().date()
    papers = [paper(feed_date=day, upvotes=10 - n, title=f"Paper {n} of the day") for n in range(4)]
    for n, p in enumerate(papers):
        pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type="application/pdf")
                       if n % 2 == 0 else Reply(404, "gone", content_type="text/plain"))
    worker.run_once(client=polite)
    # One image's file is missing on this "host": it must still load (rebuilt from the row).
    storage.cache_path(Thumbnail.objects.get(paper=papers[0]).digest).unlink()

    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  color_scheme=scheme)
    page = context.new_page()
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    page.goto(f"{live_server.url}/papers/date/{day:%Y-%m-%d}")
    images = page.evaluate(LOAD_ALL)
    thumbs = [i for i in images if i["src"].startswith("/thumbnails/")]
    assert len(thumbs) == 2
    assert all(i["loading"] == "lazy" and i["shown"] > 0 for i in thumbs), thumbs
    assert [i for i in images if i["natural"] == 0] == []  # no broken image anywhere
    cards = page.locator(".thumb-card")
    assert cards.count() == 2
    image_width = thumbs[0]["shown"]
    for n in range(2):
        box = cards.nth(n).bounding_box()
        # A card takes the place of an image exactly: same width, portrait like a page.
        assert abs(box["width"] - image_width) < 1 and box["height"] > box["width"], box
    assert "Paper 1 of the day" in cards.first.inner_text()
    # The card's text stays readable in both schemes, and nothing widens the page.
    colours = cards.first.locator(".thumb-title").evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(document.body).backgroundColor]")
    assert colours[0] != colours[1]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert failed == []
    context.close()
