"""A signed-in member's copy of a cached page (:mod:`paperfeed.papers.pagecache`): the
anonymous page with the member's own parts spliced into its marked regions — their
account links, and whatever other apps register in :data:`PERSONALISERS` (community: vote
marks, saved papers) — instead of a full render per member."""

from __future__ import annotations

from collections.abc import Callable

from django.core.signals import setting_changed
from django.http import HttpRequest

# What each visitor's CSRF token stands as in a cached page (filled in per request).
CSRF_MARK = "@@pf-csrf@@"

# Functions (request, html) -> html that add a member's own state to a cached page;
# other apps register theirs (community: vote marks), papers knows none of them.
# Pages go through them as UTF-8 bytes, as they are cached and sent: a listing is 130 KB,
# and decoding, encoding and searching it again as text cost more than the member's query.
PERSONALISERS: list[Callable[[HttpRequest, bytes], bytes]] = []


def _marks(region: str) -> tuple[bytes, bytes]:
    return f"<!--pf:{region}-->".encode(), f"<!--/pf:{region}-->".encode()


def region(html: bytes, name: str) -> bytes | None:
    """What stands between ``<!--pf:name-->`` and ``<!--/pf:name-->``; None if the page
    has no such region."""
    start, end = _marks(name)
    _, found, rest = html.partition(start)
    inside, closed, _ = rest.partition(end)
    return inside if found and closed else None


def splice(html: bytes, name: str, replacement: bytes) -> bytes:
    """Replace what stands between ``<!--pf:name-->`` and ``<!--/pf:name-->``."""
    start, end = _marks(name)
    before, found, rest = html.partition(start)
    if not found:
        return html
    _, found, after = rest.partition(end)
    return before + start + replacement + end + after if found else html


# A signed-in member's account links and menu entries, rendered once per process: they
# depend on nothing but the member's username (their sign-out form's CSRF token is left as
# CSRF_MARK and filled in by pagecache.respond()), so a renamed member gets a new key and nothing
# needs retiring. Bounded: cleared when full.
_FRAGMENTS: dict[tuple[str, int, str], bytes] = {}
FRAGMENT_ENTRIES = 4096


def member_fragment(request: HttpRequest, template: str) -> bytes:
    """``template`` rendered for the signed-in ``request.user``, from this process's memo."""
    user = request.user
    key = (template, user.pk, user.get_username())
    found = _FRAGMENTS.get(key)
    if found is None:
        from django.template.loader import render_to_string

        # No request: no context processors, so no per-visitor token, only the mark.
        found = render_to_string(template, {"user": user, "csrf_token": CSRF_MARK}).encode()
        if len(_FRAGMENTS) >= FRAGMENT_ENTRIES:
            _FRAGMENTS.clear()
        _FRAGMENTS[key] = found
    return found


def _reset_fragments(setting: str, **kwargs) -> None:
    _FRAGMENTS.clear()  # URLs, static files and templates may all have changed


setting_changed.connect(_reset_fragments, dispatch_uid="pagecache-fragments")


def personalise(request: HttpRequest, html: bytes) -> bytes:
    """The cached anonymous ``html`` (UTF-8) with the signed-in member's own parts."""
    for add_state in PERSONALISERS:  # first given the cached page itself (it may memoise)
        html = add_state(request, html)
    return splice(html, "member-nav", member_fragment(request, "partials/nav_member.html"))
