"""RSS 2.0 and Atom feeds: daily, trending, per category, and any search query.

Each feed is a ``django.contrib.syndication`` ``Feed``; the Atom twin of each is the same
class with ``feed_type = AtomFeedType``. Both feed types name every author (one Atom
``<author>`` or RSS ``dc:creator`` each), and the site is the feed-level author. GUIDs are ``tag:`` URIs built from the site's host
and the paper's database id, so they never change when a paper known by a slug later
gains an arXiv id (which changes its URL).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponseBadRequest
from django.urls import NoReverseMatch, reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape

from paperfeed.api import search
from paperfeed.api.queries import api_papers, latest_days, trending_in
from paperfeed.lib.text import abstract_paragraphs
from paperfeed.papers.models import Category, Paper

FEED_DAYS = 3  # the daily feed carries the latest few feed days, so a missed poll loses nothing
MAX_ITEMS = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in XML 1.0


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text)


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message + "\n", content_type="text/plain; charset=utf-8")


_DC = "http://purl.org/dc/elements/1.1/"


class RssFeedType(Rss201rev2Feed):
    """RSS 2.0 with one ``dc:creator`` per author (``<author>`` must be an e-mail address)."""

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:dc": _DC}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name in item.get("authors", ()):
            handler.addQuickElement("dc:creator", name)


class AtomFeedType(Atom1Feed):
    """Atom with one ``<author>`` per author: a name element names one person (RFC 4287 §3.2)."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name in item.get("authors", ()):
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")


class PaperFeed(Feed):
    """What every paper feed shares: how an item looks, who wrote it, where it lives."""

    feed_type = RssFeedType
    description_template = None
    MAX_AUTHORS = 10  # then "et al.": some papers list thousands

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        # The self link is the URL asked for, query included (?category=, ?q=): a reader
        # that follows it must get this same feed back.
        feed.feed["feed_url"] = request.build_absolute_uri()
        return feed

    def author_name(self) -> str:
        # The feed's own author (the site): Atom needs one on the feed when an entry has
        # none (RFC 4287 §4.1.1), and papers with no known authors exist.
        return settings.SITE_NAME

    def item_title(self, item: Paper) -> str:
        return _clean(item.title)

    def item_link(self, item: Paper) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Paper) -> str:
        host = urlsplit(settings.SITE_URL).hostname or "paperfeed"
        return f"tag:{host},2025:paper/{item.pk}"

    item_guid_is_permalink = False

    def item_description(self, item: Paper) -> str:
        # HTML, which the feed generator escapes into the XML; readers render it.
        parts = [f"<p>{escape(_clean(text))}</p>" for text in abstract_paragraphs(item.abstract)]
        links = []
        if item.best_pdf_url:
            links.append(f'<a href="{escape(item.best_pdf_url)}">PDF</a>')
        if item.arxiv_url:
            links.append(f'<a href="{escape(item.arxiv_url)}">arXiv:{escape(item.arxiv_id)}</a>')
        if item.code_url:
            links.append(f'<a href="{escape(item.code_url)}">Code</a>')
        upvotes = item.total_upvotes
        links.append(f"{upvotes} upvote{'s' if upvotes != 1 else ''}")
        parts.append("<p>" + " · ".join(links) + "</p>")
        return _clean("".join(parts))

    def item_pubdate(self, item: Paper) -> dt.datetime | None:
        # When the paper entered the daily feed (else its publication day), midnight UTC.
        day = item.feed_date or item.published_on
        return dt.datetime.combine(day, dt.time(), dt.UTC) if day else None

    def item_updateddate(self, item: Paper) -> dt.datetime:
        return item.updated_at

    def item_extra_kwargs(self, item: Paper) -> dict:
        names = [_clean(name) for name in item.authors[:self.MAX_AUTHORS] if name.strip()]
        if len(item.authors) > self.MAX_AUTHORS:
            names.append("et al.")
        return {"authors": names}

    def item_categories(self, item: Paper) -> list[str]:
        return [c.code for c in item.categories.all()]

    def item_enclosure_url(self, item: Paper) -> str | None:
        return item.best_pdf_url or None

    item_enclosure_mime_type = "application/pdf"
    item_enclosure_length = 0  # unknown; RSS requires the attribute


class DailyFeed(PaperFeed):
    def get_object(self, request, *args, **kwargs):
        code = (request.GET.get("category") or kwargs.get("code") or "").strip()
        if code and not Category.objects.filter(code=code).exists() and not (
                Category.objects.filter(archive=code).exists()):
            raise Http404(f"There is no arXiv category {code!r}.")
        return code

    def title(self, code: str) -> str:
        return f"{settings.SITE_NAME}: daily papers" + (f" in {code}" if code else "")

    def link(self, code: str) -> str:
        return reverse("papers:latest") + (f"?category={code}" if code else "")

    def description(self, code: str) -> str:
        return "The most upvoted papers of the latest days" + (f" in {code}." if code else ".")

    def items(self, code: str):
        papers = api_papers()
        if code:
            papers = papers.in_category(code)
        days = latest_days(papers, FEED_DAYS)
        return list(papers.filter(feed_date__in=days)
                    .order_by("-feed_date", "-upvotes", "-featured", "title", "pk")[:MAX_ITEMS])


class TrendingFeed(PaperFeed):
    def title(self) -> str:
        return f"{settings.SITE_NAME}: trending papers"

    def link(self) -> str:
        return reverse("papers:trending")

    description = "Papers ranked by upvotes with time decay."

    def items(self):
        return trending_in(api_papers(), None, 0, MAX_ITEMS)


class _UnsearchableQuery(Exception):
    pass


@dataclass(frozen=True)
class _Search:
    # Carried from get_object to items: one Feed instance serves every thread.
    query: str
    papers: list[Paper]


class SearchFeed(PaperFeed):
    def __call__(self, request, *args, **kwargs):
        query = (request.GET.get("q") or "").strip()
        if not query:
            return _bad_request("Give the search words as ?q=...")
        if "\x00" in query or len(query) > 500:
            return _bad_request("The query is too long or has a NUL character.")
        try:
            return super().__call__(request, *args, **kwargs)
        except _UnsearchableQuery as exc:
            return _bad_request(str(exc) or "This query cannot be searched.")

    def get_object(self, request, *args, **kwargs):
        query = request.GET["q"].strip()
        try:
            results = search.search(query, limit=50)
        except ValueError as exc:  # the engine's word for a query it cannot run
            raise _UnsearchableQuery(str(exc)) from None
        return _Search(query, [p for p, _ in search.papers_for(results.hits, api_papers())])

    def title(self, obj: _Search) -> str:
        return f"{settings.SITE_NAME}: papers matching “{_clean(obj.query)}”"

    def link(self, obj: _Search) -> str:
        try:
            page = reverse("search:search")
        except NoReverseMatch:  # no search page (yet): the JSON results are the next best
            page = reverse("api:v1-search")
        return page + "?" + urlencode({"q": obj.query})

    def description(self, obj: _Search) -> str:
        return f"Search results for {_clean(obj.query)}, best match first."

    def items(self, obj: _Search) -> list[Paper]:
        return obj.papers


class DailyAtomFeed(DailyFeed):
    feed_type = AtomFeedType
    subtitle = DailyFeed.description


class TrendingAtomFeed(TrendingFeed):
    feed_type = AtomFeedType
    subtitle = TrendingFeed.description


class SearchAtomFeed(SearchFeed):
    feed_type = AtomFeedType
    subtitle = SearchFeed.description

