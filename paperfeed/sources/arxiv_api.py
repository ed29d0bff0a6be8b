"""Source: the arXiv API (``export.arxiv.org/api/query``), an Atom feed per query.

Two uses: look papers up by id (community submissions, ``paperfeed ingest arxiv-api
--id``) and page through a search query. Quirks handled here:

* a malformed id makes arXiv answer HTTP 400 with an Atom *error feed* (one entry whose
  id is ``https://arxiv.org/api/errors#...``); we check ids ourselves first so people get
  the error without a round trip, and still map the error feed for anything we let by;
* an id that does not exist is not an error to arXiv: the feed is simply empty;
* ``<category>`` lists ACM/MSC classes next to arXiv categories; only the latter are kept;
* the feed shows the latest version only: its ``published`` is v1's date and its
  ``updated`` the date of that latest version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from paperfeed import conf
from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.papers.records import PaperRecord, VersionRecord
from paperfeed.sources.arxiv_common import (
    category_codes,
    parse_datetime,
    parse_xml,
    text_of,
)
from paperfeed.sources.http import FormatError, PoliteClient, SourceError
from paperfeed.sources.values import record_at

SOURCE = "arxiv-api"
MAX_IDS_PER_REQUEST = 100
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_ERROR_ID = "arxiv.org/api/errors"


class ArxivLookupError(SourceError):
    """A lookup by id failed for a reason the person who typed the id can act on."""

    def __init__(self, message: str, ids: list[str]):
        super().__init__(message)
        self.ids = ids


class MalformedIdError(ArxivLookupError, ValueError):
    """Not an arXiv id at all (rejected by us or by arXiv's HTTP 400 error feed)."""


class UnknownIdError(ArxivLookupError, LookupError):
    """A well-formed id that arXiv does not know."""


@dataclass(frozen=True)
class FeedPage:
    records: list[PaperRecord]
    total: int  # opensearch:totalResults
    start: int


def default_base_url() -> str:
    return conf.value("PAPERFEED_ARXIV_API_URL")


def _entry_record(entry: Element, where: str) -> PaperRecord:
    raw_id = text_of(entry.find("atom:id", _NS))
    abs_part = raw_id.split("/abs/", 1)[-1]
    try:
        arxiv_id = parse_arxiv_id(abs_part)
    except InvalidArxivId as exc:
        raise FormatError(f"{where}: entry with unexpected id {raw_id!r}") from exc
    title = text_of(entry.find("atom:title", _NS))
    if not title:
        raise FormatError(f"{where}: entry {raw_id} has no title")
    published = parse_datetime(text_of(entry.find("atom:published", _NS)))
    updated = parse_datetime(text_of(entry.find("atom:updated", _NS)))
    primary = entry.find("arxiv:primary_category", _NS)
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [c.get("term", "") for c in entry.findall("atom:category", _NS)]
    pdf = next((link.get("href", "") for link in entry.findall("atom:link", _NS)
                if link.get("title") == "pdf"), "")
    version = arxiv_id.version
    versions = [VersionRecord(1, published)] if published else []
    if version and version > 1 and updated:
        versions.append(VersionRecord(version, updated))
    return record_at(
        where,
        source=SOURCE,
        original_id=arxiv_id.base,
        title=title,
        abstract=text_of(entry.find("atom:summary", _NS)),
        arxiv_id=arxiv_id.base,
        version=version,
        authors=tuple(text_of(a.find("atom:name", _NS)) for a in entry.findall("atom:author", _NS)),
        categories=category_codes(terms),
        published_on=published.date() if published else None,
        updated_on=updated.date() if updated else None,
        pdf_url=pdf,
        journal_ref=text_of(entry.find("arxiv:journal_ref", _NS)),
        doi=text_of(entry.find("arxiv:doi", _NS)),
        arxiv_comments=text_of(entry.find("arxiv:comment", _NS)),
        versions=tuple(versions),
    )


def parse_feed(body: bytes | str, where: str = "arXiv API response") -> FeedPage:
    """Records of one API feed; raises :class:`MalformedIdError` for arXiv's error feed."""
    root = parse_xml(body, where)
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise FormatError(f"{where}: expected an Atom <feed>, found <{root.tag}>")
    entries = root.findall("atom:entry", _NS)
    for entry in entries:
        if _ERROR_ID in text_of(entry.find("atom:id", _NS)):
            message = text_of(entry.find("atom:summary", _NS)) or "arXiv rejected the query"
            raise MalformedIdError(f"arXiv API error: {message}", [])
    try:
        total = int(text_of(root.find("opensearch:totalResults", _NS)) or 0)
        start = int(text_of(root.find("opensearch:startIndex", _NS)) or 0)
    except ValueError as exc:
        raise FormatError(f"{where}: bad opensearch counts ({exc})") from exc
    return FeedPage([_entry_record(e, where) for e in entries], total, start)


def query(*, search_query: str = "", id_list: list[str] | None = None, start: int = 0,
          max_results: int = 100, base_url: str | None = None,
          client: PoliteClient | None = None) -> FeedPage:
    """One request to ``/api/query`` with arXiv's own parameter names."""
    client = client or PoliteClient()
    url = base_url or default_base_url()
    params = [
        ("search_query", search_query), ("id_list", ",".join(id_list or [])),
        ("sortBy", "relevance"), ("sortOrder", "descending"),
        ("start", str(start)), ("max_results", str(max_results)),
    ]
    response = client.get(url, params)
    where = f"arXiv API {response.url}"
    if response.status == 400:
        # The body is the error feed: raise with arXiv's own message and the ids asked.
        try:
            parse_feed(response.body, where)
        except MalformedIdError as exc:
            raise MalformedIdError(str(exc), list(id_list or [])) from exc
        raise MalformedIdError(f"{where}: HTTP 400", list(id_list or []))
    if response.status != 200:
        raise SourceError(f"{where}: HTTP {response.status}")
    try:
        return parse_feed(response.body, where)
    except MalformedIdError as exc:
        raise MalformedIdError(str(exc), list(id_list or [])) from exc


def fetch_by_ids(ids: list[str], *, base_url: str | None = None,
                 client: PoliteClient | None = None) -> list[PaperRecord]:
    """The arXiv records of ``ids`` (any form people paste), in the order given.

    Raises :class:`MalformedIdError` if any id is not an arXiv id (before any request),
    :class:`UnknownIdError` if arXiv does not know one, and
    :class:`~paperfeed.sources.http.SourceError` subclasses if arXiv cannot be reached.
    """
    parsed, bad = [], []
    for raw in ids:
        try:
            parsed.append(parse_arxiv_id(raw))
        except InvalidArxivId as exc:
            bad.append((raw, str(exc)))
    if bad:
        raise MalformedIdError("; ".join(message for _, message in bad), [raw for raw, _ in bad])
    client = client or PoliteClient()
    found: dict[str, PaperRecord] = {}
    unique = list(dict.fromkeys(p.versioned for p in parsed))
    for i in range(0, len(unique), MAX_IDS_PER_REQUEST):
        chunk = unique[i : i + MAX_IDS_PER_REQUEST]
        page = query(id_list=chunk, max_results=MAX_IDS_PER_REQUEST, base_url=base_url,
                     client=client)
        for record in page.records:
            found.setdefault(record.arxiv_id or "", record)
    missing = [p.versioned for p in parsed if p.base not in found]
    if missing:
        raise UnknownIdError(f"arXiv has no paper with id {', '.join(missing)}.", missing)
    return [found[p.base] for p in parsed]


def search(search_query: str, *, page_size: int = 100, start: int = 0, limit: int | None = None,
           base_url: str | None = None, client: PoliteClient | None = None
           ) -> Iterator[FeedPage]:
    """Page through a search (``all:testing``, ``cat:cs.LG``...), one feed page at a time."""
    client = client or PoliteClient()
    seen = 0
    while limit is None or seen < limit:
        size = page_size if limit is None else min(page_size, limit - seen)
        page = query(search_query=search_query, start=start, max_results=size,
                     base_url=base_url, client=client)
        if not page.records:
            return
        yield page
        seen += len(page.records)
        start += len(page.records)
        if start >= page.total:
            return
