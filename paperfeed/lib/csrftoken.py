"""Django's CSRF form token (``django.middleware.csrf.get_token``), drawn cheaply.

``get_token`` draws each of the mask's 32 characters (and a new secret's) with its own
``secrets.choice``: ~64 system calls, about as long as serving a cached page from memory.
:func:`get_token` here draws them from one ``os.urandom`` call and masks the secret the
same way (``django.middleware.csrf._mask_cipher_secret``: character-wise addition modulo
the alphabet), so ``CsrfViewMiddleware`` accepts its tokens exactly like Django's; it also
flags the cookie for ``CsrfViewMiddleware.process_response`` as Django's does. For the pages
answered before that middleware (papers/fastpath.py), :func:`cookie` is the cookie it would
set, written by it once a second.
"""

from __future__ import annotations

import operator
import os
import time
from http.cookies import Morsel

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CsrfViewMiddleware

_CHARS = CSRF_ALLOWED_CHARS
_SIZE = len(_CHARS)
# Bytes below this map evenly onto the alphabet (248 = 4 × 62); the rest are dropped and
# drawn again.
_EVEN = 256 - 256 % _SIZE
# Done by bytes.translate, in C: a random byte to its character (or dropped), a character
# to its index, and the sum of two indices (0-122) to the character it stands for.
_BYTE_TO_CHAR = bytes(ord(_CHARS[b % _SIZE]) for b in range(256))
_UNEVEN = bytes(range(_EVEN, 256))
_CHAR_TO_INDEX = bytes(_CHARS.index(chr(b)) if chr(b) in _CHARS else 0 for b in range(256))
_SUM_TO_CHAR = bytes(ord(_CHARS[b % _SIZE]) for b in range(256))


def random_chars(n: int = CSRF_SECRET_LENGTH) -> str:
    """``n`` characters of the CSRF alphabet, each uniformly and independently drawn."""
    drawn = b""
    while len(drawn) < n:
        drawn += os.urandom(n + 8).translate(_BYTE_TO_CHAR, _UNEVEN)
    return drawn[:n].decode("ascii")


def mask(secret: str) -> str:
    """A masked token for ``secret`` (a new mask each time, against BREACH): Django's
    character-wise addition of a random pad modulo the alphabet."""
    pad = random_chars(len(secret))
    secret_at = secret.encode("ascii").translate(_CHAR_TO_INDEX)
    pad_at = pad.encode("ascii").translate(_CHAR_TO_INDEX)
    return pad + bytes(map(operator.add, secret_at, pad_at)).translate(_SUM_TO_CHAR).decode()


def get_token(request: HttpRequest) -> str:
    """What ``django.middleware.csrf.get_token`` returns, with the same side effects:
    a new secret in ``META["CSRF_COOKIE"]`` when the request had none (after
    ``CsrfViewMiddleware.process_request``), and the cookie flagged to be sent."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_chars()
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return mask(secret)


# A secret's stand-in while Django writes the cookie (letters only: cookies quote others).
_PLACEHOLDER = "PaperfeedCsrfSecretPlaceholderXY"
# (second, the cookie's attributes, its Set-Cookie line with the placeholder), as Django
# last wrote them.
_written: tuple[int, dict, str] | None = None


class _Written(Morsel):
    """A cookie whose ``Set-Cookie`` line was written already (by Django, :func:`cookie`)."""

    def OutputString(self, attrs=None):  # noqa: N802 (Morsel's name)
        return self._line if attrs is None else super().OutputString(attrs)


def cookie(secret: str) -> Morsel:
    """The CSRF cookie ``CsrfViewMiddleware.process_response`` sets for ``secret`` now,
    for ``response.cookies``: Django's own, written by that middleware once a second with a
    placeholder (its expiry date moves on by the second), then filled in. Formatting the
    cookie and parsing the Vary header was a fifth of a cached page's answer."""
    global _written
    second = int(time.time())
    found = _written
    if found is None or found[0] != second:
        request, response = HttpRequest(), HttpResponse()
        request.META.update(CSRF_COOKIE=_PLACEHOLDER, CSRF_COOKIE_NEEDS_UPDATE=True)
        CsrfViewMiddleware(lambda request: response).process_response(request, response)
        morsel = response.cookies[settings.CSRF_COOKIE_NAME]
        found = _written = (second, dict(morsel), morsel.OutputString())
    written = _Written()
    written.set(settings.CSRF_COOKIE_NAME, secret, secret)
    dict.update(written, found[1])
    written._line = found[2].replace(_PLACEHOLDER, secret)
    return written


def _forget_cookie(setting: str, **kwargs) -> None:
    global _written
    if setting.startswith("CSRF_"):
        _written = None


setting_changed.connect(_forget_cookie, dispatch_uid="csrftoken-cookie")
