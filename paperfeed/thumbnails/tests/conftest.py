"""Real PDFs made by the tests, served from loopback like arXiv would serve them."""

from __future__ import annotations

import io

import pytest

from paperfeed.sources.http import PoliteClient
from paperfeed.sources.testing import ReplayServer

PAPER_HTML = """<!doctype html><html><head><style>
body { font-family: serif; margin: 2cm; } h1 { text-align: center; font-size: 22pt; }
.authors { text-align: center; } .cols { columns: 2; text-align: justify; font-size: 10pt; }
</style></head><body>
<h1>Attention Is Rendered Thumbnail-Sized</h1>
<p class="authors">Ada Lovelace · Alan Turing · Grace Hopper</p>
<h2>Abstract</h2><p>We print this page to PDF with Chromium and render its first page.</p>
<div class="cols">""" + "<p>Transformers read the whole sequence at once. " * 60 + """</div>
<p style="page-break-before: always">Page two, which is never rendered.</p>
</body></html>"""


@pytest.fixture(scope="session")
def paper_pdf(browser) -> bytes:
    """A two-page A4 paper, printed to PDF by Chromium (a real PDF, as arXiv serves)."""
    page = browser.new_page()
    try:
        page.set_content(PAPER_HTML)
        return page.pdf(format="A4")
    finally:
        page.close()


@pytest.fixture(scope="session")
def locked_pdf(paper_pdf) -> bytes:
    """The same paper with a user password (RC4-128, pypdf): PDFium cannot open it."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(paper_pdf)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def pdf_server(monkeypatch, settings, tmp_path):
    """A loopback "arXiv" at PAPERFEED_THUMBNAIL_PDF_URL; thumbnails go to ``tmp_path``."""
    settings.DATA_DIR = tmp_path
    with ReplayServer() as server:
        monkeypatch.setenv("PAPERFEED_THUMBNAIL_PDF_URL", server.url + "/pdf")
        yield server


@pytest.fixture
def polite() -> PoliteClient:
    """The sources' client without the 3-second delay and with one retry."""
    return PoliteClient(delay=0, max_retries=1, sleep=lambda seconds: None)
