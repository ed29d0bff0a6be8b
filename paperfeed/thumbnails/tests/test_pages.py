"""Thumbnails on the pages: lazy images with their size, cards otherwise, long-cached files."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paperfeed.papers.tests.factories import paper
from paperfeed.sources.testing import Reply
from paperfeed.thumbnails import storage, worker
from paperfeed.thumbnails.models import Thumbnail

PDF = "application/pdf"


def _feed_papers(pdf_server, polite, paper_pdf, *, rendered: int, carded: int,
                 day: dt.date | None = None):
    """``rendered`` papers with a thumbnail (most upvoted first), then ``carded`` whose PDF 404s."""
    day = day or timezone.now().date()
    papers = [paper(feed_date=day, upvotes=1000 - n, categories=("cs.CV", "cs.LG"),
                    title=f"Seeing thing {n} at a glance")
              for n in range(rendered + carded)]
    for n, p in enumerate(papers):
        pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type=PDF)
                       if n < rendered else Reply(404, "no", content_type="text/plain"))
    worker.run_once(client=polite)
    return papers


@pytest.mark.django_db
def test_the_day_page_shows_lazy_sized_images_and_cards_for_the_rest(client, pdf_server, polite,
                                                                     paper_pdf):
    shown, missing = _feed_papers(pdf_server, polite, paper_pdf, rendered=1, carded=1)
    thumb = Thumbnail.objects.get(paper=shown)
    html = client.get(f"/papers/date/{shown.feed_date:%Y-%m-%d}").content.decode()

    img = re.search(r'<img class="thumb"[^>]*>', html).group(0)
    assert f'src="/thumbnails/{thumb.digest}.webp"' in img
    assert 'width="320"' in img and 'height="453"' in img and 'loading="lazy"' in img
    assert html.count('<img class="thumb"') == 1
    card = re.search(r'<span class="thumb thumb-card">.*?</span></span>', html).group(0)
    assert "cs.CV" in card and missing.title in card and "Ada Lovelace et al." in card


@pytest.mark.django_db
def test_the_paper_page_shows_its_thumbnail_linked_to_the_pdf(client, pdf_server, polite,
                                                              paper_pdf):
    shown, missing = _feed_papers(pdf_server, polite, paper_pdf, rendered=1, carded=1)
    html = client.get(shown.get_absolute_url()).content.decode()
    assert re.search(r'<a class="thumb-link thumb-large" href="https://arxiv.org/pdf/'
                     + re.escape(shown.arxiv_id) + r'"[^>]*>\s*<img class="thumb" src="/thumbnails/',
                     html)
    html = client.get(missing.get_absolute_url()).content.decode()
    assert '<span class="thumb thumb-card">' in html and '<img class="thumb"' not in html


@pytest.mark.django_db
def test_a_listing_loads_every_thumbnail_in_one_query(client, pdf_server, polite, paper_pdf):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len([q for q in captured if "thumbnails_thumbnail" in q["sql"]])

    few = dt.date(2026, 1, 5)
    _feed_papers(pdf_server, polite, paper_pdf, rendered=1, carded=1, day=few)
    many = timezone.now().date()
    _feed_papers(pdf_server, polite, paper_pdf, rendered=6, carded=6, day=many)
    assert queries(f"/papers/date/{few:%Y-%m-%d}") == queries(f"/papers/date/{many:%Y-%m-%d}") == 1


@pytest.mark.django_db
def test_images_are_served_with_long_cache_headers(client, pdf_server, polite, paper_pdf):
    shown, = _feed_papers(pdf_server, polite, paper_pdf, rendered=1, carded=0)
    thumb = Thumbnail.objects.get(paper=shown)
    response = client.get(thumb.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content) == bytes(thumb.image)


@pytest.mark.django_db
def test_a_host_without_the_file_rebuilds_it_from_the_database(client, pdf_server, polite,
                                                              paper_pdf):
    shown, = _feed_papers(pdf_server, polite, paper_pdf, rendered=1, carded=0)
    thumb = Thumbnail.objects.get(paper=shown)
    path = storage.cache_path(thumb.digest)
    path.unlink()
    fetched = len(pdf_server.requests)
    response = client.get(thumb.url)
    assert b"".join(response.streaming_content) == bytes(thumb.image)
    assert path.read_bytes() == bytes(thumb.image)
    assert len(pdf_server.requests) == fetched  # no second download of the PDF


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/thumbnails/0123456789abcdef0123.webp",
                                 "/thumbnails/../secret_key.webp", "/thumbnails/XYZ.webp"])
def test_unknown_or_malformed_image_names_are_404(client, settings, tmp_path, url):
    settings.DATA_DIR = tmp_path
    assert client.get(url).status_code == 404
