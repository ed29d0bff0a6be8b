"""Page 1 of a PDF as a small WebP, rendered by PDFium in a child process.

PDFium is C++ reading files from the internet: a crafted PDF can make it spin or crash.
Rendering in a forked child lets the worker kill it after a timeout and survive a crash,
and the child's memory goes back to the system when it exits.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
from dataclasses import dataclass

PDF_MAGIC = b"%PDF-"
WEBP_QUALITY = 80


class RenderError(Exception):
    """The PDF cannot be rendered; ``permanent`` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


@dataclass(frozen=True)
class Rendered:
    image: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.image).hexdigest()[:20]


def looks_like_pdf(body: bytes) -> bool:
    # The PDF spec lets the header start anywhere in the first 1,024 bytes.
    return PDF_MAGIC in body[:1024]


def _render_page_one(pdf: bytes, width: int, max_pixels: int) -> Rendered:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise RenderError("the PDF is password-protected", permanent=True) from exc
        raise RenderError(f"PDFium cannot read the PDF: {exc}", permanent=True) from exc
    try:
        if len(document) == 0:
            raise RenderError("the PDF has no pages", permanent=True)
        page = document[0]
        page_width, page_height = page.get_size()
        if page_width <= 0 or page_height <= 0:
            raise RenderError(f"page 1 has no area ({page_width}x{page_height} pt)",
                              permanent=True)
        scale = width / page_width
        height = round(page_height * scale)
        if width * height > max_pixels:
            raise RenderError(
                f"page 1 would be {width}x{height} px at thumbnail width, over the "
                f"{max_pixels:,}-pixel cap (PAPERFEED_THUMBNAIL_MAX_PIXELS)", permanent=True)
        image = page.render(scale=scale, may_draw_forms=False).to_pil()
        out = io.BytesIO()
        image.convert("RGB").save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        return Rendered(out.getvalue(), image.width, image.height)
    finally:
        document.close()


def _child(pdf: bytes, width: int, max_pixels: int, conn) -> None:
    # Plain tuples cross the pipe: an exception with keyword arguments does not unpickle.
    try:
        done = _render_page_one(pdf, width, max_pixels)
        result: tuple = (done.image, done.width, done.height)
    except RenderError as exc:
        result = (exc.reason, exc.permanent)
    except Exception as exc:  # anything PDFium or Pillow raises: report it, do not hang
        result = (f"rendering failed: {type(exc).__name__}: {exc}", True)
    conn.send(result)
    conn.close()


def render_first_page(pdf: bytes, *, width: int, max_pixels: int, timeout: float) -> Rendered:
    """Render page 1 of ``pdf`` ``width`` pixels wide; raises :class:`RenderError`."""
    if not looks_like_pdf(pdf):
        raise RenderError(f"not a PDF (starts with {pdf[:32]!r})", permanent=True)
    # fork: the child gets the PDF without copying it through a pipe, and starts in
    # milliseconds (it never touches the database connection it inherits).
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(pdf, width, max_pixels, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise RenderError(f"rendering page 1 took longer than {timeout:g} s "
                              f"(PAPERFEED_THUMBNAIL_RENDER_TIMEOUT)", permanent=False)
        try:
            result = receive.recv()
        except EOFError:
            child.join(5)
            raise RenderError(f"the renderer crashed (exit code {child.exitcode})",
                              permanent=False) from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if len(result) == 2:
        raise RenderError(result[0], permanent=result[1])
    return Rendered(*result)

