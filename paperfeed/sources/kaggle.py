"""Source: the Kaggle arXiv snapshot (``arxiv-metadata-oai-snapshot.json``).

One JSON object per line, millions of lines (every arXiv paper), optionally gzipped.
The file is streamed in chunks of ``batch_size`` lines, parsed by worker processes (or
in this one) and imported one chunk per transaction, so memory stays flat whatever the
file size. The search index catches up once, after the last chunk (see
``paperfeed.papers.announcing``).

A line that is not a valid record is logged with its line number and skipped; the rest
of the file still imports and the command exits non-zero at the end, so one bad line
in a 4 GB dump neither loses the other millions nor passes unnoticed.
"""

from __future__ import annotations

import gc
import gzip
import io
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.pool import Pool
from pathlib import Path
from typing import IO, Any

import orjson

from paperfeed.lib.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperfeed.lib.text import without_nul
from paperfeed.papers.announcing import changes_announced_in_bulk
from paperfeed.papers.bulk import PlannerStatistics
from paperfeed.papers.merge import MergeStats
from paperfeed.papers.prepared import Prepared, Preparer, apply_prepared
from paperfeed.papers.records import PaperRecord, VersionRecord
from paperfeed.sources.arxiv_common import category_codes, parse_date, parse_datetime
from paperfeed.sources.http import FormatError, PoliteClient, SourceError
from paperfeed.sources.values import check_depth, record_at, text

SOURCE = "kaggle"
log = logging.getLogger("paperfeed.sources")


def _authors(row: dict, where: str) -> tuple[str, ...]:
    parsed = row.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                # Numbers are odd but meaningful as text; a list or an object is not.
                if not all(isinstance(part, (str, int, float)) for part in parts):
                    raise FormatError(f"{where}: 'authors_parsed' holds something other "
                                      f"than names")
                last, first, suffix = (list(parts) + ["", ""])[:3]
                names.append(" ".join(str(p) for p in (first, last, suffix) if p))
        return tuple(names)
    names = " ".join(text(row, "authors", where).split())
    return tuple(a.strip() for a in names.replace(" and ", ", ").split(",") if a.strip())


def _versions(row: dict, where: str) -> tuple[VersionRecord, ...]:
    items = row.get("versions") or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise FormatError(f"{where}: 'versions' is not a list of objects")
    versions = []
    for item in items:
        raw = item.get("version")
        label = str(raw) if type(raw) is int else text(
            item, "version", where, label="versions[].version").lstrip("v")
        if label.isdigit():
            created = text(item, "created", where, label="versions[].created")
            versions.append(VersionRecord(int(label), parse_datetime(created)))
    return tuple(sorted(versions, key=lambda v: v.version))


def row_record(row: Any, where: str) -> PaperRecord:
    if not isinstance(row, dict):
        raise FormatError(f"{where}: expected a JSON object")
    for name in ("id", "title"):
        if not row.get(name):
            raise FormatError(f"{where}: missing {name!r}")
    try:
        arxiv_id = parse_arxiv_id(text(row, "id", where)).base
    except InvalidArxivId as exc:
        raise FormatError(f"{where}: {exc}") from exc
    versions = _versions(row, where)
    first = versions[0].submitted_at if versions else None
    return record_at(
        where,
        source=SOURCE, original_id=arxiv_id, arxiv_id=arxiv_id,
        version=versions[-1].version if versions else None,
        title=" ".join(text(row, "title", where).split()),
        abstract=" ".join(text(row, "abstract", where).split()),
        authors=_authors(row, where),
        categories=category_codes(text(row, "categories", where)),
        published_on=first.date() if first else None,
        updated_on=parse_date(text(row, "update_date", where)),
        journal_ref=text(row, "journal-ref", where),
        doi=text(row, "doi", where).split(" ")[0],
        arxiv_comments=" ".join(text(row, "comments", where).split()),
        license=text(row, "license", where),
        versions=versions,
    )


def open_snapshot(path: Path) -> IO[bytes]:
    """The snapshot's lines, gunzipped if need be; a pipe (``/dev/stdin``) works too."""
    return _gunzipped(path.open("rb"))


def _gunzipped(raw: io.BufferedReader) -> IO[bytes]:
    if raw.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


class ReadError(SourceError):
    """The input ended early or is corrupt; what came before it was imported."""


# What reading a cut or corrupt input raises: a short download (FetchError), gzip's
# EOFError / BadGzipFile (an OSError) / zlib.error, a dropped connection.
_READ_ERRORS = (SourceError, EOFError, OSError, zlib.error)


@dataclass
class KaggleResult:
    stats: MergeStats = field(default_factory=MergeStats)
    lines: int = 0
    errors: list[str] = field(default_factory=list)
    broken_off: str = ""  # why the input ended before its end (a ReadError's message)
    import_seconds: float = 0.0  # reading, parsing and writing to the database
    seconds: float = 0.0  # all of it, with the search index catching up at the end


def _parse_lines(lines: list[bytes], first: int, name: str, *, with_index: bool = False
                 ) -> _Parsed:
    """Records (with their content hashes) of numbered lines; bad lines become errors.

    ``with_index``: each record comes as ``(index of its line, record)``.
    """
    records, digests, errors = [], [], []
    for number, line in enumerate(lines, first):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = line_record(line, where)
        except FormatError as exc:
            errors.append(str(exc))
            continue
        except ValueError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        records.append((number - first, record) if with_index else record)
        digests.append(record.content_hash())
    return records, digests, errors


_Parsed = tuple[list[PaperRecord], list[str], list[str]]


def line_record(line: bytes, where: str) -> PaperRecord:
    """The record of one snapshot line (``ValueError`` if it is not JSON)."""
    row = orjson.loads(line)
    if b"\\u0000" in line:
        check_depth(row, where)  # without_nul recurses
        row = without_nul(row)
    return row_record(row, where)


_preparer: Preparer | None = None  # one per process: see _prepare_lines


def _prepare_lines(lines: list[bytes], first: int, name: str
                   ) -> tuple[list[Prepared], list[str]]:
    """``_parse_lines``, then each record as the rows of a new paper (see ``prepared``).

    A record's payload is its line's index in ``lines``, for the writer to rebuild it.
    """
    global _preparer
    if _preparer is None:
        _preparer = Preparer()
    records, digests, errors = _parse_lines(lines, first, name, with_index=True)
    prepare = _preparer.prepare
    return [prepare(record, digest, index) for (index, record), digest
            in zip(records, digests, strict=True)], errors


def _chunks(stream: IO[bytes], size: int, name: str) -> Iterator[tuple[list[bytes], int]]:
    """Chunks of ``size`` lines; when the input breaks off, the lines before the break
    come first, then :class:`ReadError` saying how far it got (lines and bytes)."""
    first, offset = 1, 0
    while True:
        lines: list[bytes] = []
        try:
            lines.extend(islice(stream, size))  # keeps what it read if the input breaks
        except _READ_ERRORS as exc:
            if lines:
                yield lines, first
            read = first - 1 + len(lines)
            offset += sum(map(len, lines))
            why = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            raise ReadError(f"{name}: the input broke off after line {read:,} ({why}); "
                            f"the {read:,} lines ({offset:,} bytes) before it were "
                            f"read") from exc
        if not lines:
            return
        yield lines, first
        first += len(lines)
        offset += sum(map(len, lines))


@contextmanager
def _parsing_pool(workers: int) -> Iterator[Pool | None]:
    """Worker processes, forked before the import starts any thread (None for none).

    They only parse: they never touch the database (the parent's connection is not
    theirs to use).
    """
    if workers < 1:
        yield None
        return
    with multiprocessing.get_context("fork").Pool(workers, initializer=_default_signals) as pool:
        yield pool


def _default_signals() -> None:
    """A parsing worker dies on SIGTERM, whatever handler its parent had installed.

    Leaving the pool terminates its workers with SIGTERM while they may wait on the
    task queue's lock; a forked worker keeps the parent's Python handler (the worker
    and digest commands set one to stop gracefully), which only sets a flag and
    lets the wait go on, so the pool's join never returned.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the import on Ctrl-C


def _parsed_chunks(stream: IO[bytes], name: str, size: int, pool: Pool | None, workers: int,
                   on_line: Callable[[int], None] | None, parse: Callable[..., Any]
                   ) -> Iterator[tuple[Any, list[bytes], int]]:
    """``(parse(lines, first, name), lines, first)`` per chunk in file order, parsed here
    or by ``pool``.

    With a pool, a reader thread hands chunks to it, at most two per worker ahead of
    the writer, so memory stays flat and a slow input (a pipe, a download) never holds
    back chunks that have arrived.
    """
    def read() -> Iterator[tuple[list[bytes], int]]:
        for lines, first in _chunks(stream, size, name):
            if on_line:
                on_line(sum(len(line) for line in lines))
            yield lines, first

    if pool is None:
        for lines, first in read():
            yield parse(lines, first, name), lines, first
        return
    ahead: queue.Queue = queue.Queue(maxsize=2 * workers)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for lines, first in read():
                job = pool.apply_async(parse, (lines, first, name))
                if not put((job, lines, first)):
                    return
            put(None)
        except BaseException as exc:  # re-raised in the writer, in file order
            put(exc)

    thread = threading.Thread(target=reader, name="kaggle-reader", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            job, lines, first = item
            yield job.get(), lines, first
    finally:
        stop.set()
        thread.join(timeout=5)


def read_records(stream: IO[bytes], result: KaggleResult, *, name: str = "snapshot"
                 ) -> Iterator[PaperRecord]:
    """Records of a snapshot stream; bad lines go to ``result.errors`` and are skipped."""
    for (records, _, errors), lines, _ in _parsed_chunks(stream, name, 2000, None, 0, None,
                                                         _parse_lines):
        result.lines += len(lines)
        for message in errors:
            log.error("%s (line skipped)", message)
        result.errors += errors
        yield from records


def _rebuilder(lines: list[bytes], first: int, name: str) -> Callable[[Prepared], PaperRecord]:
    """The record of a prepared line, parsed again (for the few the fast path cannot take)."""
    def rebuild(item: Prepared) -> PaperRecord:
        index = item.payload
        return line_record(lines[index], f"{name}:{first + index}")

    return rebuild


def default_workers() -> int:
    """Parsing processes beside the one that writes: one when there is a second core."""
    return 1 if (os.cpu_count() or 1) > 1 else 0


def ingest_stream(stream: IO[bytes], *, name: str = "snapshot", batch_size: int = 2000,
                  on_line: Callable[[int], None] | None = None, workers: int | None = None,
                  index_at_end: bool = True,
                  on_index: Callable[[int, int], None] | None = None) -> KaggleResult:
    """Import a snapshot stream, one transaction per ``batch_size`` lines.

    ``workers`` processes parse while this one writes (default: ``default_workers()``).
    ``index_at_end``: announce the changes once, after the last batch (the search index
    catches up in one pass, reporting to ``on_index``); otherwise per ~10,000 papers
    while importing.
    """
    result = KaggleResult()
    workers = default_workers() if workers is None else workers
    # The import allocates millions of short-lived objects, and every full collection
    # would also walk all of Django's long-lived ones: set those aside meanwhile
    # (measured: ~15% of a first import's time). Before forking, so workers share them.
    gc.freeze()
    start = time.perf_counter()
    statistics = PlannerStatistics()
    try:
        with _parsing_pool(workers) as pool, changes_announced_in_bulk(
                deferred=index_at_end, label=name, progress=on_index):
            # closing(): the reader thread stops at once if a batch fails.
            with closing(_parsed_chunks(stream, name, batch_size, pool, workers,
                                        on_line, _prepare_lines)) as chunks:
                try:
                    for (prepared, errors), lines, first in chunks:
                        result.lines += len(lines)
                        for message in errors:
                            log.error("%s (line skipped)", message)
                        result.errors += errors
                        stats = apply_prepared(prepared, _rebuilder(lines, first, name))
                        result.stats.add(stats)
                        statistics.add(stats.new + stats.updated)
                except ReadError as exc:
                    # What came before the break stays imported (and gets indexed).
                    log.error("%s", exc)
                    result.broken_off = str(exc)
                statistics.finish()
            result.import_seconds = time.perf_counter() - start
    finally:
        gc.unfreeze()
    result.seconds = time.perf_counter() - start
    return result


def ingest_file(path: Path, *, batch_size: int = 2000, progress: bool = False,
                workers: int | None = None, index_at_end: bool = True) -> KaggleResult:
    size = path.stat().st_size if path.is_file() else None
    options = {"name": str(path), "batch_size": batch_size, "workers": workers,
               "index_at_end": index_at_end}
    with open_snapshot(path) as stream:
        if not progress:
            return ingest_stream(stream, **options)
        from tqdm import tqdm

        # Progress in bytes of the (uncompressed) input; for gzip the total is a guess.
        with tqdm(total=None if isinstance(stream, gzip.GzipFile) else size,
                  unit="B", unit_scale=True, desc=path.name, file=sys.stderr) as bar:
            index_bar = None

            def on_index(done: int, total: int) -> None:
                nonlocal index_bar
                if index_bar is None:
                    bar.close()
                    index_bar = tqdm(total=total, unit="paper", desc="search index",
                                     file=sys.stderr)
                index_bar.update(done - index_bar.n)

            try:
                return ingest_stream(stream, on_line=bar.update, on_index=on_index, **options)
            finally:
                if index_bar is not None:
                    index_bar.close()


def ingest_url(base_url: str, name: str, *, batch_size: int = 2000,
               client: PoliteClient | None = None, workers: int | None = None,
               index_at_end: bool = True) -> KaggleResult:
    """Stream a snapshot from a mirror without storing it: one GET, read as it arrives.

    Through the shared polite client (``Retry-After`` and retries until the body
    starts); a download that ends short of its ``Content-Length`` raises
    :class:`ReadError` once the lines before the break are imported.
    """
    import urllib.parse

    url = urllib.parse.urljoin(base_url.rstrip("/") + "/", name)
    with (client or PoliteClient()).stream(url) as body:
        return ingest_stream(_gunzipped(body), name=url, batch_size=batch_size,
                             workers=workers, index_at_end=index_at_end)
