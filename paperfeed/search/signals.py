"""Follow the core's changes: new or edited papers enter the keyword index at once."""

from __future__ import annotations

import logging

log = logging.getLogger("paperfeed.search")


def index_changed_papers(sender, paper_ids: list[int], **kwargs) -> None:
    from paperfeed.search.indexing import index_papers
    from paperfeed.search.service import get_engine

    try:
        index_papers(get_engine(), list(paper_ids))
    except Exception:
        # The ingest has committed; failing it now would lose nothing but would hide the
        # papers from nobody either. Say how to catch up instead.
        log.exception("could not index %d changed papers; run `paperfeed reindex`",
                      len(paper_ids))


def index_changed_since(sender, since, progress=None, **kwargs) -> None:
    from paperfeed.search import indexing
    from paperfeed.search.service import get_engine

    try:
        count = indexing.index_changed_since(get_engine(), since, progress=progress)
    except Exception:
        log.exception("could not index the papers changed since %s; run `paperfeed reindex`",
                      since)
        raise
    log.info("keyword index caught up: %d papers changed since %s", count, since)
