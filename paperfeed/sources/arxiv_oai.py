"""Source: arXiv's OAI-PMH interface, for bulk back-fills and incremental harvests.

``ListRecords`` with the ``arXiv`` metadata format (``oai_dc`` when the server cannot
disseminate it), narrowed by ``from``/``until``/``set``, following ``resumptionToken``
to the end. After every page, its records and the checkpoint (next token, last
datestamp) are committed in one transaction (:class:`~paperfeed.sources.models.HarvestState`),
so a killed harvest resumes at the page it never finished, and a finished one is the
starting point (``from`` = its last datestamp) of the next incremental harvest.

arXiv quirks handled here:

* ``noRecordsMatch`` is how OAI-PMH says "nothing new": not an error;
* the last page carries an *empty* ``<resumptionToken/>``;
* tokens expire (``badResumptionToken``): we restart from the last datestamp we
  stored, which re-reads at most one day (those records are skipped as unchanged);
* the ``arXiv`` format has no version numbers, so its records only fill what a
  versioned source (API, Kaggle) has not set (see papers/merge.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from django.db import transaction
from django.utils import timezone

from paperfeed import conf
from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.lib.text import clean_line
from paperfeed.papers.categories import arxiv_categories
from paperfeed.papers.merge import MergeStats, apply_records
from paperfeed.papers.records import PaperRecord
from paperfeed.sources.arxiv_common import category_codes, parse_date, parse_xml, text_of
from paperfeed.sources.http import FormatError, PoliteClient, SourceError
from paperfeed.sources.models import HarvestState, RejectedRecord
from paperfeed.sources.values import record_at

SOURCE = "arxiv-oai"
log = logging.getLogger("paperfeed.sources")

OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
FORMATS = ("arXiv", "oai_dc")


class OaiError(SourceError):
    def __init__(self, code: str, message: str):
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code


@dataclass
class OaiPage:
    records: list[PaperRecord]
    token: str | None  # None or "" on the last page
    complete_list_size: int | None = None
    last_datestamp: dt.date | None = None
    deleted: int = 0
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class Rejected:
    """A record skipped because it could not be read; kept as a ``RejectedRecord``."""

    identifier: str
    where: str
    message: str
    content: str


def default_base_url() -> str:
    return conf.value("PAPERFEED_ARXIV_OAI_URL")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _find_text(parent: Element, ns: str, tag: str) -> str:
    return text_of(parent.find(_q(ns, tag)))


def _record_id(raw: str, where: str) -> str:
    try:
        return parse_arxiv_id(raw).base
    except InvalidArxivId as exc:
        raise FormatError(f"{where}: record with unexpected arXiv id {raw!r}") from exc


def _from_arxiv(meta: Element, where: str) -> PaperRecord:
    arxiv_id = _record_id(_find_text(meta, ARXIV, "id"), where)
    authors = []
    for author in meta.iter(_q(ARXIV, "author")):
        parts = [_find_text(author, ARXIV, t) for t in ("forenames", "keyname", "suffix")]
        authors.append(" ".join(p for p in parts if p))
    title = _find_text(meta, ARXIV, "title")
    if not title:
        raise FormatError(f"{where}: record {arxiv_id} has no title")
    return record_at(
        where,
        source=SOURCE, original_id=arxiv_id, arxiv_id=arxiv_id, title=title,
        abstract=_find_text(meta, ARXIV, "abstract"), authors=tuple(authors),
        categories=category_codes(_find_text(meta, ARXIV, "categories")),
        published_on=parse_date(_find_text(meta, ARXIV, "created")),
        updated_on=parse_date(_find_text(meta, ARXIV, "updated")),
        arxiv_comments=_find_text(meta, ARXIV, "comments"),
        journal_ref=_find_text(meta, ARXIV, "journal-ref"),
        doi=_first_doi(_find_text(meta, ARXIV, "doi")),
        license=_find_text(meta, ARXIV, "license"),
    )


def _first_doi(text: str) -> str:
    # Some records list several DOIs ("10.1103/A, 10.1103/B;10.1103/C"); keep the first.
    return text.replace(";", " ").replace(",", " ").split()[0] if text.strip() else ""


@cache
def _subject_codes() -> dict[str, str]:
    """oai_dc subjects ("Computer Science - Computation and Language") to category codes."""
    rows = arxiv_categories()
    archive_names = {r["archive"]: r["name"] for r in rows if r["code"] == r["archive"]}
    codes: dict[str, str] = {}
    for row in rows:
        codes.setdefault(row["name"], row["code"])
        if row["code"] != row["archive"] and row["archive"] in archive_names:
            codes[f"{archive_names[row['archive']]} - {row['name']}"] = row["code"]
    return codes


def _from_dc(meta: Element, where: str) -> PaperRecord:
    identifiers = [text_of(e) for e in meta.iter(_q(DC, "identifier"))]
    abs_url = next((i for i in identifiers if "arxiv.org/abs/" in i), "")
    if not abs_url:
        raise FormatError(f"{where}: oai_dc record without an arXiv abs URL")
    arxiv_id = _record_id(abs_url.split("/abs/", 1)[1], where)
    descriptions = [text_of(e) for e in meta.iter(_q(DC, "description"))]
    comments = [d.removeprefix("Comment:").strip() for d in descriptions
                if d.startswith("Comment:")]
    abstract = next((d for d in descriptions if not d.startswith("Comment:")), "")
    subjects = [text_of(e) for e in meta.iter(_q(DC, "subject"))]
    codes = _subject_codes()
    dates = sorted(filter(None, (parse_date(text_of(e)) for e in meta.iter(_q(DC, "date")))))
    creators = []
    for creator in meta.iter(_q(DC, "creator")):
        # "Liepins, Vilnis" -> "Vilnis Liepins"
        last, _, first = text_of(creator).partition(", ")
        creators.append(clean_line(f"{first} {last}"))
    return record_at(
        where,
        source=SOURCE, original_id=arxiv_id, arxiv_id=arxiv_id,
        title=_find_text(meta, DC, "title"), abstract=abstract, authors=tuple(creators),
        categories=tuple(dict.fromkeys(codes[s] for s in subjects if s in codes)),
        published_on=dates[0] if dates else None,
        updated_on=dates[-1] if len(dates) > 1 else None,
        arxiv_comments=" ".join(comments),
    )


def parse_list_records(body: bytes | str, where: str = "OAI-PMH response") -> OaiPage:
    """One ``ListRecords`` page. Raises :class:`OaiError` or :class:`FormatError`."""
    root = parse_xml(body, where)
    if root.tag != _q(OAI, "OAI-PMH"):
        raise FormatError(f"{where}: expected an <OAI-PMH> document, found <{root.tag}>")
    error = root.find(_q(OAI, "error"))
    if error is not None:
        code = error.get("code", "unknown")
        if code == "noRecordsMatch":
            return OaiPage([], None)
        raise OaiError(code, text_of(error))
    listing = root.find(_q(OAI, "ListRecords"))
    if listing is None:
        raise FormatError(f"{where}: no <ListRecords> element")
    page = OaiPage([], None)
    for index, record in enumerate(listing.findall(_q(OAI, "record")), 1):
        at = f"{where}, record {index}"
        header = record.find(_q(OAI, "header"))
        try:
            _read_record(record, header, at, page)
        except FormatError as exc:
            if isinstance(exc, UnknownFormat):
                raise  # the server sent another format: the page is wrong, not a record
            # One bad record must not hold the harvest back forever (every rerun would
            # fail on this page): skip it, report it, keep it for the operator.
            identifier = _find_text(header, OAI, "identifier") if header is not None else ""
            log.error("%s (record skipped; kept for `paperfeed rejected`)", exc)
            page.rejected.append(Rejected(identifier, at, str(exc),
                                          _as_received(body, index, record)))
    token = listing.find(_q(OAI, "resumptionToken"))
    if token is not None:
        page.token = (token.text or "").strip()
        longest = HarvestState._meta.get_field("resumption_token").max_length
        if len(page.token) > longest:
            # It could not be stored as the checkpoint (PostgreSQL would fail the page).
            raise FormatError(f"{where}: resumption token of {len(page.token):,} characters, "
                              f"longer than the {longest} a checkpoint keeps")
        size = token.get("completeListSize")
        # Only a hint for progress lines: an absurd one is dropped, not stored.
        page.complete_list_size = int(size) if size and size.isdigit() and len(size) < 10 \
            else None
    return page


_RECORD_TEXT = re.compile(r"<record>.*?</record>", re.S)


def _as_received(body: bytes | str, index: int, record: Element) -> str:
    """The ``index``-th record's text as the server sent it (re-serialised if not found)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    found = _RECORD_TEXT.findall(text)
    if index <= len(found):
        return found[index - 1]
    return ElementTree.tostring(record, encoding="unicode")


class UnknownFormat(FormatError):
    """A record in a metadata format we did not ask for."""


def _read_record(record: Element, header: Element | None, at: str, page: OaiPage) -> None:
    """Add one ``<record>`` to ``page`` (a record, or a deletion); FormatError if bad."""
    if header is None:
        raise FormatError(f"{at}: no <header>")
    stamp = parse_date(_find_text(header, OAI, "datestamp"))
    if stamp and (page.last_datestamp is None or stamp > page.last_datestamp):
        page.last_datestamp = stamp
    if header.get("status") == "deleted":
        page.deleted += 1
        return
    metadata = record.find(_q(OAI, "metadata"))
    payload = metadata[0] if metadata is not None and len(metadata) else None
    if payload is None:
        raise FormatError(f"{at}: no <metadata>")
    if payload.tag == _q(ARXIV, "arXiv"):
        page.records.append(_from_arxiv(payload, at))
    elif payload.tag == _q(OAI_DC, "dc"):
        page.records.append(_from_dc(payload, at))
    else:
        raise UnknownFormat(f"{at}: unknown metadata format <{payload.tag}> "
                            f"(expected one of {', '.join(FORMATS)})")


@dataclass
class HarvestResult:
    stats: MergeStats = field(default_factory=MergeStats)
    pages: int = 0
    deleted: int = 0
    rejected: int = 0  # records skipped and kept as RejectedRecord rows
    resumed: bool = False
    state: HarvestState | None = None


class Harvester:
    """Runs (or resumes) one harvest; see the module docstring for the semantics."""

    def __init__(self, *, set_spec: str = "", from_date: dt.date | None = None,
                 until: dt.date | None = None, metadata_prefix: str = "arXiv",
                 restart: bool = False, base_url: str | None = None,
                 client: PoliteClient | None = None,
                 on_page: Callable[[HarvestResult, OaiPage], None] | None = None):
        if metadata_prefix not in FORMATS:
            raise ValueError(f"metadata format must be one of {', '.join(FORMATS)}")
        self.set_spec, self.from_date, self.until = set_spec, from_date, until
        self.prefix, self.restart = metadata_prefix, restart
        self.base_url = base_url or default_base_url()
        self.client = client or PoliteClient()
        self.on_page = on_page

    def _state(self) -> HarvestState:
        state, _ = HarvestState.objects.get_or_create(
            key=f"{self.prefix}:{self.set_spec or '*'}",
            defaults={"metadata_prefix": self.prefix, "set_spec": self.set_spec},
        )
        return state

    def _first_params(self, state: HarvestState) -> list[tuple[str, str]]:
        params = [("verb", "ListRecords"), ("metadataPrefix", self.prefix)]
        if state.from_date:
            params.append(("from", state.from_date.isoformat()))
        if state.until_date:
            params.append(("until", state.until_date.isoformat()))
        if self.set_spec:
            params.append(("set", self.set_spec))
        return params

    def _begin(self, state: HarvestState, result: HarvestResult) -> None:
        asked_other_window = (self.from_date and self.from_date != state.from_date) or (
            self.until and self.until != state.until_date)
        if state.in_progress and not self.restart and not asked_other_window:
            result.resumed = True
            log.info("resuming harvest %s after %d pages", state.key, state.pages)
            return
        # A new harvest: the window asked for, else incremental from the last datestamp.
        state.from_date = self.from_date or (None if self.restart else state.last_datestamp)
        state.until_date = self.until
        state.resumption_token, state.pages, state.records = "", 0, 0
        state.started_at, state.finished_at = timezone.now(), None
        state.save()

    def run(self) -> HarvestResult:
        result = HarvestResult()
        state = self._state()
        result.state = state
        self._begin(state, result)
        while True:
            if state.resumption_token:
                params = [("verb", "ListRecords"), ("resumptionToken", state.resumption_token)]
            else:
                params = self._first_params(state)
            response = self.client.get(self.base_url, params)
            where = f"OAI-PMH {response.url}"
            if response.status != 200:
                raise SourceError(f"{where}: HTTP {response.status}")
            try:
                page = parse_list_records(response.body, where)
            except OaiError as exc:
                if exc.code == "badResumptionToken" and state.resumption_token:
                    # Tokens expire; restart from the last day we stored instead.
                    log.warning("%s: token expired; restarting from %s", where,
                                state.last_datestamp)
                    state.from_date, state.resumption_token = state.last_datestamp, ""
                    state.save()
                    continue
                if exc.code == "cannotDisseminateFormat" and self.prefix != "oai_dc" \
                        and not state.resumption_token:
                    log.warning("%s: no %s format here; falling back to oai_dc", where,
                                self.prefix)
                    self.prefix = "oai_dc"
                    state = result.state = self._state()
                    self._begin(state, result)
                    continue
                raise
            self._commit(state, page, result)
            if self.on_page:
                self.on_page(result, page)
            if not page.token:
                return result

    def _commit(self, state: HarvestState, page: OaiPage, result: HarvestResult) -> None:
        with transaction.atomic():
            stats = apply_records(page.records)
            RejectedRecord.objects.bulk_create(
                RejectedRecord(source=SOURCE, identifier=r.identifier[:300], where=r.where,
                               message=r.message, content=r.content) for r in page.rejected)
            state.resumption_token = page.token or ""
            state.complete_list_size = page.complete_list_size or state.complete_list_size
            if page.last_datestamp and (state.last_datestamp is None
                                        or page.last_datestamp > state.last_datestamp):
                state.last_datestamp = page.last_datestamp
            state.pages += 1
            state.records += len(page.records)
            if not page.token:
                state.finished_at = timezone.now()
            state.save()
        result.stats.add(stats)
        result.pages += 1
        result.deleted += page.deleted
        result.rejected += len(page.rejected)
