"""What other apps call: search, related papers and embeddings (the interface contract).

``search_papers(query, mode=..., limit=..., offset=..., filters=...) -> SearchResults``
``related_papers(paper_id, limit=10) -> list[int]``
``embed_texts(texts) -> numpy.ndarray`` (L2-normalised rows from the configured model)

``filters`` keys (all optional): ``category`` (code or archive, e.g. ``cs.LG`` or
``cs``), ``author`` (a name), ``date_from`` / ``date_to`` (``datetime.date``, on the
publication date) and ``sort`` (``relevance`` — the default — or ``newest``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
from django.conf import settings

from paperfeed.conf import value
from paperfeed.search import embeddings
from paperfeed.search.engine import Engine, Hit, SearchResults
from paperfeed.search.query import ParsedQuery, parse_query

__all__ = ["Hit", "SearchResults", "search_papers", "related_papers", "embed_texts",
           "get_engine", "related_to"]

log = logging.getLogger("paperfeed.search")
_engines: dict[Path, Engine] = {}
_lock = threading.Lock()


def index_directory() -> Path:
    configured = value("PAPERFEED_SEARCH_DIR")
    return Path(configured).expanduser() if configured else Path(settings.DATA_DIR) / "search"


def get_engine() -> Engine:
    """This process's engine for the configured index folder (opened once)."""
    directory = index_directory()
    with _lock:
        if directory not in _engines:
            # One folder per process in practice; tests switch folders, so keep only one.
            _engines.clear()
            _engines[directory] = Engine(directory, embeddings.configured_model(),
                                         value("PAPERFEED_SEARCH_HYBRID_WEIGHT"))
        return _engines[directory]


def warm_up() -> float | None:
    """Load what a process's first search would (the indexes' readers and, when the site
    searches by meaning, the embedding model) before it serves anyone; seconds taken,
    or None when it failed (logged: search then loads on first use, as before).

    Importing torch and the model takes seconds of the process's CPU, and every request
    that process held waited behind it: at 1M papers under load, a 12 s stall the first
    time each web process answered a search."""
    started = time.perf_counter()
    try:
        get_engine().rank(parse_query("warm up"), limit=1)
    except Exception:
        log.exception("search: could not warm up; the first search will load what it needs")
        return None
    seconds = time.perf_counter() - started
    log.info("search: warmed up in %.1f s", seconds)
    return seconds


def search_papers(query: str, *, mode: str = "hybrid", limit: int = 20, offset: int = 0,
                  filters: dict | None = None) -> SearchResults:
    parsed = parse_query(query)
    return search_parsed(parsed, mode=mode, limit=limit, offset=offset, filters=filters)


def search_parsed(parsed: ParsedQuery, *, mode: str = "hybrid", limit: int = 20,
                  offset: int = 0, filters: dict | None = None) -> SearchResults:
    filters = dict(filters or {})
    newest = filters.pop("sort", "relevance") == "newest"
    limit = max(0, min(int(limit), 1000))
    offset = max(0, int(offset))
    results = get_engine().rank(parsed, mode=mode, limit=limit, offset=offset,
                                filters={k: v for k, v in filters.items() if v}, newest=newest)
    if parsed.notes and results.message is None:
        results.message = " ".join(parsed.notes)
    return results


def related_papers(paper_id: int, limit: int = 10) -> list[int]:
    """Nearest papers by embedding; by the title's informative words when there is no
    embedding (:meth:`KeywordIndex.related <paperfeed.search.keyword.KeywordIndex.related>`)."""
    return related_to(paper_id, None, limit)


def related_to(paper_id: int, title: str | None, limit: int = 10) -> list[int]:
    """:func:`related_papers`, given the title when the caller has it (saves a query)."""
    engine = get_engine()
    vector = engine.vectors.get([paper_id]).get(paper_id)
    if vector is not None:
        found = engine.vectors.search(vector, limit + 1)
        return [pid for pid, _ in found if pid != paper_id][:limit]
    if title is None:
        from paperfeed.papers.models import Paper

        title = Paper.objects.filter(pk=paper_id).values_list("title", flat=True).first()
    if not title:
        return []
    hits = engine.keyword.related(title, limit=limit + 1)
    return [pid for pid, _ in hits if pid != paper_id][:limit]


def embed_texts(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings of ``texts`` by the configured model (float32, one row each)."""
    return embeddings.embed(list(texts), embeddings.configured_model())
