"""A page compressed once, served to each visitor with their own tokens in it.

A page is compressed once, when stored (:func:`compress`), and served compressed to
readers whose ``Accept-Encoding`` takes gzip (:func:`accepts_gzip`). Its per-visitor
CSRF tokens (one per vote form) cannot be put into a compressed stream
afterwards, and one gzip *member* per piece is no way out: Chromium decodes only the
first member of a response (measured; Python's ``gzip`` reads them all). So the page is
compressed as one deflate stream in which each token is a placeholder of the token's
length, flushed (``Z_SYNC_FLUSH``: byte-aligned, history kept) before and after it;
the placeholder's own output is dropped and, per request, replaced by a *stored* block
holding the visitor's token (RFC 1951 3.2.4). The placeholder is NUL bytes, which the
page never contains, so no later match can copy from it. A response is the gzip header,
the pieces with the token between them, and the trailer: the page's length and its
CRC-32 with the tokens in. A CRC is linear over GF(2), so that is the CRC of the page
with NUL placeholders XOR a 32×32 bit matrix (every placeholder's distance to the end
folded in, :func:`_crc_columns`, at store time) times the token's own CRC register: a
few microseconds per request instead of a pass over the page (~70 µs for 130 KB).
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255])  # deflate, no name, no mtime
_ZEROS = memoryview(bytes(1 << 16))


def compress(body: bytes, mark: bytes, token_length: int, level: int
             ) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
    """``body`` (tokens replaced by ``mark``) as deflate pieces cut at each mark
    (:func:`_pieces`), and what its CRC needs: the CRC with NUL placeholders, then
    :func:`_crc_columns`. Both empty when the page holds a NUL byte (a later match could
    then copy from a placeholder)."""
    if b"\0" in body:
        return (), ()
    placeholder = b"\0" * token_length
    parts = body.split(mark)
    return (_pieces(parts, placeholder, level),
            (zlib.crc32(placeholder.join(parts)), *_crc_columns(parts, token_length)))


def fill(pieces: tuple[bytes, ...], crc: tuple[int, ...], body_length: int, marks: int,
         mark_length: int, token: bytes) -> bytes:
    """The gzip stream of the page ``compress`` made ``pieces`` and ``crc`` from, with
    ``token`` (of the length given there) in place of each of its ``marks`` marks."""
    stored = b"\0" + struct.pack("<HH", len(token), len(token) ^ 0xFFFF) + token
    value, *columns = crc
    if marks:
        register = zlib.crc32(token, 0xFFFFFFFF) ^ 0xFFFFFFFF  # B(token): from 0, no inversion
        for column in columns:
            if register & 1:
                value ^= column
            register >>= 1
    size = body_length + marks * (len(token) - mark_length)
    trailer = struct.pack("<II", value, size & 0xFFFFFFFF)
    return b"".join((_GZIP_HEADER, stored.join(pieces), trailer))


def _pieces(parts: list[bytes], placeholder: bytes, level: int) -> tuple[bytes, ...]:
    """One raw deflate stream of ``parts`` joined by ``placeholder``, cut there: piece *i*
    ends byte-aligned, and what the placeholder after it compressed to is left out; the
    last piece ends the stream."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    pieces = []
    *parts, last = parts
    for part in parts:
        pieces.append(deflate.compress(part) + deflate.flush(zlib.Z_SYNC_FLUSH))
        deflate.compress(placeholder)  # in the history, so distances stay right
        deflate.flush(zlib.Z_SYNC_FLUSH)
    pieces.append(deflate.compress(last) + deflate.flush(zlib.Z_FINISH))
    return tuple(pieces)


def _crc_zeros(n: int, crc: int) -> int:
    while n:
        step = min(n, len(_ZEROS))
        crc = zlib.crc32(_ZEROS[:step], crc)
        n -= step
    return crc


def _crc_columns(parts: list[bytes], token_length: int) -> list[int]:
    """Columns of S = Σ M(zᵢ), M(z) advancing a CRC register over z zero bytes and zᵢ the
    bytes after the i-th token: the page's CRC with token t in every placeholder is then
    its CRC with NUL placeholders XOR S·B(t), B(t) the register after t alone. Horner's
    scheme: one pass over the page's length per column."""
    gaps = [len(part) + token_length for part in parts[1:-1]] + [len(parts[-1])]
    # M(n)·v = crc32(0ⁿ, v) XOR crc32(0ⁿ, 0): zlib's crc32 inverts the register on the
    # way in and out, and the inversions cancel.
    offsets = [_crc_zeros(gap, 0) for gap in gaps]
    columns = []
    for bit in range(32):
        acc = 0
        for gap, offset in zip(gaps, offsets, strict=True):
            acc = _crc_zeros(gap, acc ^ (1 << bit)) ^ offset
        columns.append(acc)
    return columns


@lru_cache(maxsize=256)  # browsers send a handful of distinct values
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value takes gzip (RFC 9110 12.5.3): ``gzip`` (or
    ``x-gzip``) with a q-value above 0, or else ``*`` with one; ``gzip;q=0`` refuses it
    even when ``*`` is accepted. A malformed q-value counts as 0."""
    named = star = None
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0 <= q <= 1:  # also NaN
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            named = q if named is None else max(named, q)
        elif coding == "*":
            star = q
    q = named if named is not None else star
    return q is not None and q > 0
