from __future__ import annotations

from collections import Counter

from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    _check_token_format,
    _does_token_match,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from paperfeed.lib import csrftoken


def test_its_tokens_unmask_to_the_secret_as_djangos_do():
    secret = csrftoken.random_chars()
    tokens = {csrftoken.mask(secret) for _ in range(50)}
    assert len(tokens) == 50  # a new mask each time
    for token in tokens:
        _check_token_format(token)
        assert _unmask_cipher_token(token) == secret and _does_token_match(token, secret)
    assert not _does_token_match(csrftoken.mask(csrftoken.random_chars()), secret)


def test_it_makes_a_secret_for_a_visitor_without_one_and_keeps_an_existing_one():
    request = RequestFactory().get("/")
    token = csrftoken.get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] and len(secret) == 32
    assert _does_token_match(token, secret)
    assert _does_token_match(csrftoken.get_token(request), secret)
    assert request.META["CSRF_COOKIE"] == secret


def test_every_character_is_drawn_about_evenly():
    counts = Counter(csrftoken.random_chars(62 * 400))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # 400 expected each; a bias of the naive `byte % 62` would give 496 to a quarter.
    assert max(counts.values()) < 480 and min(counts.values()) > 320
