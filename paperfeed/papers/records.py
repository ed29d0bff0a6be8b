"""What a source hands to the core: one plain record per paper it saw.

Every source (saved listing pages, arXiv OAI-PMH/API/RSS, Hugging Face, Kaggle) turns
its input into :class:`PaperRecord` values; :func:`paperfeed.papers.merge.apply_records`
is the only code that turns records into rows. That keeps identity and merge rules in
one place whatever the source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import orjson

from paperfeed.papers import limits
from paperfeed.papers.limits import InvalidRecord

__all__ = ["InvalidRecord", "PaperRecord", "VersionRecord"]


@dataclass(frozen=True)
class VersionRecord:
    version: int
    submitted_at: dt.datetime | None = None
    size: str = ""


@dataclass(frozen=True)
class PaperRecord:
    source: str  # a key of Source (e.g. "pages", "arxiv-oai", "hf-daily")
    original_id: str  # the identifier the source itself uses for the record
    title: str
    abstract: str = ""
    arxiv_id: str | None = None  # canonical, version-less
    version: int | None = None  # the arXiv version this title/abstract belong to
    authors: tuple[str, ...] = ()
    author_count: int | None = None  # when only a count is known (listing pages)
    categories: tuple[str, ...] = ()  # primary first
    published_on: dt.date | None = None
    updated_on: dt.date | None = None
    feed_date: dt.date | None = None  # the day the paper entered the daily feed
    upvotes: int | None = None
    num_comments: int | None = None
    pdf_url: str = ""
    code_url: str = ""
    project_url: str = ""
    github_stars: int | None = None
    organization: str = ""  # full name ("California Institute of Technology")
    organization_handle: str = ""  # the handle HF calls "name" ("caltech")
    submitted_by: str = ""  # a user name (handle)
    submitter_name: str = ""  # that user's full name
    author_participating: bool | None = None  # None: the source does not say
    ai_summary: str = ""
    ai_keywords: tuple[str, ...] = ()
    journal_ref: str = ""
    doi: str = ""
    arxiv_comments: str = ""
    license: str = ""
    versions: tuple[VersionRecord, ...] = ()
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        # Every source's records meet the database's limits, or are refused here with
        # the field named (papers/limits.py): never a DataError halfway through a batch.
        for name, value in limits.check(self).items():
            object.__setattr__(self, name, value)

    def content_hash(self) -> str:
        """A digest of everything the record says, to skip records seen before unchanged.

        orjson writes the dataclass (versions included) with sorted keys in ~6 µs;
        ``json.dumps(asdict(...))`` took ~50 µs, a fifth of a bulk import's time.
        """
        payload = orjson.dumps(self, default=str,
                               option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        return hashlib.sha256(payload).hexdigest()[:32]

