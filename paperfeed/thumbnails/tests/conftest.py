"""Real PDFs made by the tests, served from loopback like arXiv would serve them."""

from __future__ import annotations

import pytest

from paperfeed.sources.http import PoliteClient
from paperfeed.sources.testing import ReplayServer
from paperfeed.thumbnails import testing


@pytest.fixture(scope="session")
def paper_pdf(browser) -> bytes:
    """A two-page A4 paper, printed to PDF by Chromium (a real PDF, as arXiv serves)."""
    return testing.print_pdf(browser)


@pytest.fixture(scope="session")
def locked_pdf(paper_pdf) -> bytes:
    """The same paper with a user password: PDFium cannot open it."""
    return testing.locked(paper_pdf)


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
