"""Source: arXiv's daily RSS announcements (``rss.arxiv.org/rss/<category>``).

One feed per category per announcement day. Each item says how it was announced
(``arxiv:announce_type``): ``new`` (first appearance), ``cross`` (a cross-list from another
category), ``replace`` / ``replace-cross`` (a new version). arXiv announces nothing on
weekends and holidays: the feed is then a channel with no items, which is normal.

The item's ``guid`` (``oai:arXiv.org:2604.21935v1``) carries the version, its
``description`` repeats the id and announce type before ``Abstract:``, and
``dc:creator`` is one comma-separated string of authors.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_tz

from paperfeed import conf
from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.papers.records import PaperRecord
from paperfeed.sources.arxiv_common import category_codes, parse_xml, text_of
from paperfeed.sources.http import FormatError, PoliteClient, SourceError
from paperfeed.sources.values import record_at

SOURCE = "arxiv-rss"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
log = logging.getLogger("paperfeed.sources")
_NS = {"arxiv": "http://arxiv.org/schemas/atom", "dc": "http://purl.org/dc/elements/1.1/"}
_ABSTRACT = re.compile(r"^.*?Abstract:\s*", re.S)


@dataclass(frozen=True)
class RssFeed:
    category: str
    announced_on: dt.date | None
    records: list[PaperRecord]


def default_base_url() -> str:
    return conf.value("PAPERFEED_ARXIV_RSS_URL")


def parse_feed(body: bytes | str, *, in_feed: bool = False, where: str = "arXiv RSS") -> RssFeed:
    """Records of one feed. ``in_feed`` puts ``new`` papers in the daily feed on their day."""
    root = parse_xml(body, where)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise FormatError(f"{where}: expected an RSS 2.0 <rss><channel>, found <{root.tag}>")
    # arXiv dates announcements in New York time ("Mon, 27 Apr 2026 00:00:00 -0400"):
    # the announcement day is that local date, not its UTC conversion.
    day = _local_date(text_of(channel.find("pubDate")))
    category = text_of(channel.find("title")).split(" ", 1)[0]
    records = [_item_record(item, day, in_feed, f"{where}, item {n}")
               for n, item in enumerate(channel.findall("item"), 1)]
    return RssFeed(category, day, records)


def _local_date(rfc822: str) -> dt.date | None:
    parts = parsedate_tz(rfc822) if rfc822 else None
    return dt.date(parts[0], parts[1], parts[2]) if parts else None


def _item_record(item, day: dt.date | None, in_feed: bool, where: str) -> PaperRecord:
    guid = text_of(item.find("guid"))
    try:
        arxiv_id = parse_arxiv_id(guid.removeprefix("oai:arXiv.org:"))
    except InvalidArxivId as exc:
        raise FormatError(f"{where}: unexpected guid {guid!r}") from exc
    title = text_of(item.find("title"))
    if not title:
        raise FormatError(f"{where}: item {guid} has no title")
    kind = text_of(item.find("arxiv:announce_type", _NS)) or "new"
    description = (item.findtext("description") or "").strip()
    abstract = " ".join(_ABSTRACT.sub("", description).split())
    creators = text_of(item.find("dc:creator", _NS))
    is_new = kind == "new"
    return record_at(
        where,
        source=SOURCE, original_id=arxiv_id.base, arxiv_id=arxiv_id.base,
        version=arxiv_id.version, title=title, abstract=abstract,
        authors=tuple(a.strip() for a in creators.split(",") if a.strip()),
        categories=category_codes([text_of(c) for c in item.findall("category")]),
        # Only a "new" announcement tells when the paper appeared; a replacement says
        # when its latest version did.
        published_on=day if is_new else None,
        updated_on=None if is_new else day,
        feed_date=day if (is_new and in_feed) else None,
        license=text_of(item.find("dc:rights", _NS)),
        extra={"announce_type": kind},
    )


def fetch(categories: list[str], *, announce_types: tuple[str, ...] = ANNOUNCE_TYPES,
          in_feed: bool | None = None, base_url: str | None = None,
          client: PoliteClient | None = None) -> Iterator[RssFeed]:
    """One feed per category, filtered to ``announce_types``; empty feeds are normal."""
    client = client or PoliteClient()
    base = (base_url or default_base_url()).rstrip("/")
    in_feed = conf.value("PAPERFEED_RSS_IN_FEED") if in_feed is None else in_feed
    for category in categories:
        response = client.get(f"{base}/{category}")
        where = f"arXiv RSS {response.url}"
        if response.status != 200:
            raise SourceError(f"{where}: HTTP {response.status}")
        feed = parse_feed(response.body, in_feed=in_feed, where=where)
        if not feed.records:
            log.info("%s: no announcements on %s (weekends and holidays have none)", where,
                     feed.announced_on)
        kept = [r for r in feed.records if r.extra.get("announce_type") in announce_types]
        yield RssFeed(category, feed.announced_on, kept)
