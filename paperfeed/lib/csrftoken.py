"""Django's CSRF form token (``django.middleware.csrf.get_token``), drawn cheaply.

``get_token`` draws each of the mask's 32 characters (and a new secret's) with its own
``secrets.choice``: ~64 system calls, about as long as serving a cached page from memory.
:func:`get_token` here draws them from one ``os.urandom`` call and masks the secret the
same way (``django.middleware.csrf._mask_cipher_secret``: character-wise addition modulo
the alphabet), so ``CsrfViewMiddleware`` accepts its tokens exactly like Django's; it also
flags the cookie for ``CsrfViewMiddleware.process_response`` as Django's does.
"""

from __future__ import annotations

import os

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {char: i for i, char in enumerate(_CHARS)}
# Bytes below this map evenly onto the alphabet (248 = 4 × 62); the rest are drawn again.
_EVEN = 256 - 256 % len(_CHARS)


def random_chars(n: int = CSRF_SECRET_LENGTH) -> str:
    """``n`` characters of the CSRF alphabet, each uniformly and independently drawn."""
    chars: list[str] = []
    while len(chars) < n:
        chars.extend(_CHARS[b % len(_CHARS)] for b in os.urandom(n + 8) if b < _EVEN)
    return "".join(chars[:n])


def mask(secret: str) -> str:
    """A masked token for ``secret`` (a new mask each time, against BREACH)."""
    pad = random_chars(len(secret))
    size = len(_CHARS)
    return pad + "".join(_CHARS[(_INDEX[s] + _INDEX[m]) % size] for s, m in zip(secret, pad, strict=True))


def get_token(request: HttpRequest) -> str:
    """What ``django.middleware.csrf.get_token`` returns, with the same side effects:
    a new secret in ``META["CSRF_COOKIE"]`` when the request had none (after
    ``CsrfViewMiddleware.process_request``), and the cookie flagged to be sent."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_chars()
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return mask(secret)
