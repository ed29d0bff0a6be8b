"""``{% feed_links %}``: the ``<link rel="alternate">`` tags that match the page shown."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html_join

register = template.Library()

_DAILY_PAGES = {"latest", "day", "week", "month"}


def _pair(title: str, rss: str, atom: str, query: str = "") -> list[tuple[str, str, str]]:
    return [("application/rss+xml", f"{title} (RSS)", rss + query),
            ("application/atom+xml", f"{title} (Atom)", atom + query)]


def feeds_for(context) -> list[tuple[str, str, str]]:
    """(type, title, href) of the feeds matching the page, chosen by its URL name."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return []
    site = context.get("site_name", "paperfeed")
    category = context.get("category")
    code = getattr(category, "code", "") if category else ""
    if match.namespace == "papers" and match.url_name in _DAILY_PAGES:
        if code:
            return _pair(f"{site}: daily papers in {code}",
                         reverse("api:feed-category-rss", args=[code]),
                         reverse("api:feed-category-atom", args=[code]))
        return _pair(f"{site}: daily papers", reverse("api:feed-daily-rss"),
                     reverse("api:feed-daily-atom"))
    if match.namespace == "papers" and match.url_name == "trending":
        return _pair(f"{site}: trending papers", reverse("api:feed-trending-rss"),
                     reverse("api:feed-trending-atom"))
    query = (request.GET.get("q") or "").strip()
    if match.namespace == "search" and query:
        return _pair(f"{site}: search “{query}”", reverse("api:feed-search-rss"),
                     reverse("api:feed-search-atom"), "?" + urlencode({"q": query}))
    return []


@register.simple_tag(takes_context=True)
def feed_links(context) -> str:
    return format_html_join(
        "\n", '<link rel="alternate" type="{}" title="{}" href="{}">', feeds_for(context))


@register.simple_tag(takes_context=True)
def absolute_url(context, path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


