"""Source: Hugging Face Daily Papers (``huggingface.co/api/daily_papers``).

The JSON API returns a list of items ``{paper: {...}, numComments, submittedBy,
organization, ...}`` for a ``date`` (or ``week=2026-W31`` / ``month=2026-07``), paged
with ``p`` and ``limit``. The day a paper entered the feed is
``paper.submittedOnDailyAt``; the top-level ``publishedAt`` is something else (when the
item was created) and ``paper.publishedAt`` is the arXiv publication date.

A page with an item missing a required field is rejected whole with the item and field
named: nothing of it is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from paperfeed import conf
from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.lib.text import abstract_text
from paperfeed.papers.records import PaperRecord
from paperfeed.sources.arxiv_common import parse_date
from paperfeed.sources.http import FormatError, PoliteClient, SourceError
from paperfeed.sources.values import count, loads, record_at, text

SOURCE = "hf-daily"
PAGE_SIZE = 100
_REQUIRED = ("id", "title", "submittedOnDailyAt")


def default_base_url() -> str:
    return conf.value("PAPERFEED_HF_API_URL")


def _user_name(user: Any, where: str, label: str) -> str:
    if user is None or isinstance(user, str):
        return user or ""
    if not isinstance(user, dict):
        raise FormatError(f"{where}: {label!r} is not an object")
    for name in ("user", "name", "fullname"):
        if value := text(user, name, where, label=f"{label}.{name}"):
            return value
    return ""


def _full_name(user: Any, where: str, label: str) -> str:
    return text(user, "fullname", where, label=f"{label}.fullname") if isinstance(user, dict) else ""


def _organization(item: dict, paper: dict, where: str) -> tuple[str, str]:
    """(full name, handle): HF calls the handle ``name`` and the full name ``fullname``."""
    org = item.get("organization") or paper.get("organization")
    if org is None or isinstance(org, str):
        return org or "", ""
    if not isinstance(org, dict):
        raise FormatError(f"{where}: 'organization' is not an object")
    handle = text(org, "name", where, label="organization.name")
    return text(org, "fullname", where, label="organization.fullname") or handle, handle


def _authors(paper: dict, where: str) -> tuple[str, ...]:
    """Names of ``[{"name": ...}]``; plain strings are taken as names too."""
    authors = paper.get("authors") or []
    if not isinstance(authors, list):
        raise FormatError(f"{where}: 'authors' is not a list")
    names = []
    for n, author in enumerate(authors, 1):
        if isinstance(author, str):
            name = author
        elif isinstance(author, dict):
            name = text(author, "name", where, label=f"authors[{n}].name")
        else:
            raise FormatError(f"{where}: author {n} is neither a name nor an object")
        if name.strip():
            names.append(" ".join(name.split()))
    return tuple(names)


def item_record(item: Any, where: str) -> PaperRecord:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise FormatError(f"{where}: expected an object with a 'paper' object")
    paper = item["paper"]
    missing = [name for name in _REQUIRED if not paper.get(name)]
    if missing:
        raise FormatError(f"{where}: paper is missing {', '.join(missing)}")
    raw_id = paper["id"]
    if not isinstance(raw_id, str):
        raise FormatError(f"{where}: 'id' is a {type(raw_id).__name__}, not text")
    try:
        arxiv_id: str | None = parse_arxiv_id(raw_id).base
    except InvalidArxivId:
        arxiv_id = None  # HF also lists a few papers that are not on arXiv
    daily_at = text(paper, "submittedOnDailyAt", where)
    feed_day = parse_date(daily_at)
    if feed_day is None:
        raise FormatError(f"{where}: bad submittedOnDailyAt {daily_at!r}")
    keywords = paper.get("ai_keywords")
    keywords = keywords if isinstance(keywords, list) else []
    organization, organization_handle = _organization(item, paper, where)
    submitter, label = paper.get("submittedOnDailyBy"), "submittedOnDailyBy"
    if not _user_name(submitter, where, label):
        submitter, label = item.get("submittedBy"), "submittedBy"
    participating = item.get("isAuthorParticipating")
    return record_at(
        where,
        source=SOURCE, original_id=raw_id, arxiv_id=arxiv_id,
        title=" ".join(text(paper, "title", where).split()),
        abstract=abstract_text(text(paper, "summary", where)),
        authors=_authors(paper, where),
        published_on=parse_date(text(paper, "publishedAt", where)),
        feed_date=feed_day,
        upvotes=count(paper, "upvotes", where) or 0,
        num_comments=count(item, "numComments", where) or 0,
        code_url=text(paper, "githubRepo", where),
        github_stars=count(paper, "githubStars", where),
        project_url=text(paper, "projectPage", where),
        organization=organization, organization_handle=organization_handle,
        submitted_by=_user_name(submitter, where, label),
        submitter_name=_full_name(submitter, where, label),
        author_participating=participating if isinstance(participating, bool) else None,
        ai_summary=text(paper, "ai_summary", where),
        ai_keywords=tuple(k for k in keywords if isinstance(k, str)),
    )


def parse_page(body: bytes | str, where: str = "HF daily papers") -> list[PaperRecord]:
    """The records of one page; a page with a bad item is refused whole, naming it."""
    items = loads(body, where)
    if not isinstance(items, list):
        raise FormatError(f"{where}: expected a JSON list of papers")
    return [item_record(item, f"{where}, item {n}") for n, item in enumerate(items, 1)]


def period_params(*, date: dt.date | None = None, week: str | None = None,
                  month: str | None = None) -> tuple[str, str]:
    """The API's period parameter; ``week`` is ISO (``2026-W31``), ``month`` ``2026-07``."""
    if sum(x is not None for x in (date, week, month)) > 1:
        raise ValueError("give one of date, week or month")
    if week is not None:
        try:
            dt.date.fromisoformat(f"{week}-1")
        except ValueError as exc:
            raise ValueError(f"{week!r} is not an ISO week like 2026-W31") from exc
        return "week", week
    if month is not None:
        try:
            dt.date.fromisoformat(f"{month}-01")
        except ValueError as exc:
            raise ValueError(f"{month!r} is not a month like 2026-07") from exc
        return "month", month
    return "date", (date or dt.date.today()).isoformat()


def fetch(period: tuple[str, str], *, page_size: int = PAGE_SIZE, base_url: str | None = None,
          client: PoliteClient | None = None) -> Iterator[list[PaperRecord]]:
    """Pages of records for one period, until a page comes back short."""
    client = client or PoliteClient()
    url = (base_url or default_base_url()).rstrip("/") + "/daily_papers"
    page = 0
    while True:
        response = client.get(url, [period, ("limit", str(page_size)), ("p", str(page))])
        where = f"HF daily papers {response.url}"
        if response.status != 200:
            raise SourceError(f"{where}: HTTP {response.status}")
        records = parse_page(response.body, where)
        if records:
            yield records
        if len(records) < page_size:
            return
        page += 1
