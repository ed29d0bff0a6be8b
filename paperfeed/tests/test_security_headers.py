"""Every page carries a Content-Security-Policy and a Permissions-Policy, and no page has
what that policy would block: inline script, ``on…`` handlers, inline style."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from paperfeed.middleware import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY
from paperfeed.tests.conftest import COMMENT

pytestmark = pytest.mark.django_db


class _Inline(HTMLParser):
    """What a strict CSP (script-src/style-src 'self') would refuse in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            if "src" not in names and names.get("type") != "application/ld+json":
                self.found.append("inline <script>")
            self._in_script = True

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append("script with a body")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


@pytest.fixture
def member_client(client, demo_corpus):
    from paperfeed.community import comments
    from paperfeed.community.tests import factories
    from paperfeed.papers.models import Paper

    member = factories.member("ada")
    paper = Paper.objects.filter(feed_date__isnull=False).order_by("-feed_date", "pk").first()
    comments.post_comment(member, paper, COMMENT)
    client.force_login(member)
    client.paper_url = paper.get_absolute_url()
    return client


PAGES = ["/papers", "/papers/trending", "/papers/all", "/papers/date/2025-11-20",
         "/papers/search?q=diffusion", "/papers/search?q=", "/api/docs", "/accounts/login/",
         "/accounts/signup/", "/papers/for-you", "/papers/for-you/settings",
         "/digest/subscribe", "/users/ada/", "/papers/submit", "/no/such/page"]


@pytest.mark.parametrize("path", [*PAGES, "paper"])
def test_every_page_has_the_policies_and_nothing_inline(member_client, path):
    path = member_client.paper_url if path == "paper" else path
    response = member_client.get(path, follow=True)
    assert response.status_code in (200, 404), path
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    parser = _Inline()
    parser.feed(response.content.decode())
    assert parser.found == [], f"{path}: {parser.found}"


def test_the_policy_allows_no_inline_script_or_style():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    for name in ("script-src", "style-src", "default-src"):
        assert "unsafe" not in directives[name] and directives[name] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


@pytest.mark.parametrize("path", ["/api/daily_papers", "/api/openapi.json", "/feeds/daily.rss"])
def test_api_and_feed_responses_carry_them_too(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
