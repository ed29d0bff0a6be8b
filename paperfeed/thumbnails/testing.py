"""Real PDFs for the tests and the benchmark: a paper-like page printed by Chromium."""

from __future__ import annotations

import io

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


def print_pdf(browser) -> bytes:
    """A two-page A4 paper printed to PDF by a Playwright Chromium ``browser``."""
    page = browser.new_page()
    try:
        page.set_content(PAPER_HTML)
        return page.pdf(format="A4")
    finally:
        page.close()


def chromium_pdf() -> bytes:
    """:func:`print_pdf` with a Chromium of its own (Debian's, as the browser tests use)."""
    from playwright.sync_api import sync_playwright

    from paperfeed.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return print_pdf(browser)
        finally:
            browser.close()


def locked(pdf: bytes, password: str = "secret") -> bytes:
    """``pdf`` with a user password (RC4-128, which pypdf writes without extra packages)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
