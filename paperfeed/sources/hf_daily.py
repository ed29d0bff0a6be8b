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
import json
from collections.abc import Iterator
from typing import Any

from paperfeed import conf
from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.lib.text import abstract_text, without_nul
from paperfeed.papers.records import PaperRecord
from paperfeed.sources.arxiv_common import parse_date
from paperfeed.sources.http import FormatError, PoliteClient, SourceError

SOURCE = "hf-daily"
PAGE_SIZE = 100
_REQUIRED = ("id", "title", "submittedOnDailyAt")


def default_base_url() -> str:
    return conf.value("PAPERFEED_HF_API_URL")


def _user_name(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return str(user.get("user") or user.get("name") or user.get("fullname") or "")


def _full_name(user: Any) -> str:
    return str(user.get("fullname") or "") if isinstance(user, dict) else ""


def _organization(item: dict, paper: dict) -> tuple[str, str]:
    """(full name, handle): HF calls the handle ``name`` and the full name ``fullname``."""
    org = item.get("organization") or paper.get("organization")
    if isinstance(org, dict):
        handle = str(org.get("name") or "")
        return str(org.get("fullname") or handle), handle
    return "", ""


def item_record(item: Any, where: str) -> PaperRecord:
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise FormatError(f"{where}: expected an object with a 'paper' object")
    paper = item["paper"]
    missing = [name for name in _REQUIRED if not paper.get(name)]
    if missing:
        raise FormatError(f"{where}: paper is missing {', '.join(missing)}")
    raw_id = str(paper["id"])
    try:
        arxiv_id: str | None = parse_arxiv_id(raw_id).base
    except InvalidArxivId:
        arxiv_id = None  # HF also lists a few papers that are not on arXiv
    feed_day = parse_date(str(paper["submittedOnDailyAt"]))
    if feed_day is None:
        raise FormatError(f"{where}: bad submittedOnDailyAt {paper['submittedOnDailyAt']!r}")
    stars = paper.get("githubStars")
    keywords = paper.get("ai_keywords")
    keywords = keywords if isinstance(keywords, list) else []
    organization, organization_handle = _organization(item, paper)
    submitter = paper.get("submittedOnDailyBy") if _user_name(
        paper.get("submittedOnDailyBy")) else item.get("submittedBy")
    participating = item.get("isAuthorParticipating")
    return PaperRecord(
        source=SOURCE, original_id=raw_id, arxiv_id=arxiv_id,
        title=" ".join(str(paper["title"]).split()),
        abstract=abstract_text(str(paper.get("summary") or "")),
        authors=tuple(str(a["name"]) for a in paper.get("authors") or []
                      if isinstance(a, dict) and a.get("name")),
        published_on=parse_date(str(paper.get("publishedAt") or "")),
        feed_date=feed_day,
        upvotes=int(paper.get("upvotes") or 0),
        num_comments=int(item.get("numComments") or 0),
        code_url=str(paper.get("githubRepo") or ""),
        github_stars=int(stars) if isinstance(stars, int) else None,
        project_url=str(paper.get("projectPage") or ""),
        organization=organization, organization_handle=organization_handle,
        submitted_by=_user_name(submitter), submitter_name=_full_name(submitter),
        author_participating=participating if isinstance(participating, bool) else None,
        ai_summary=str(paper.get("ai_summary") or ""),
        ai_keywords=tuple(str(k) for k in keywords if isinstance(k, str)),
    )


def parse_page(body: bytes | str, where: str = "HF daily papers") -> list[PaperRecord]:
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(items, list):
        raise FormatError(f"{where}: expected a JSON list of papers")
    if ("\\u0000" if isinstance(body, str) else b"\\u0000") in body:
        items = without_nul(items)
    records = []
    for n, item in enumerate(items, 1):
        try:
            records.append(item_record(item, f"{where}, item {n}"))
        except (TypeError, ValueError, AttributeError) as exc:
            # A field of the wrong type ("upvotes": "many", "authors": 5...).
            raise FormatError(f"{where}, item {n}: malformed paper ({exc})") from exc
    return records


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
