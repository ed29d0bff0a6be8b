"""Follow the core's changes in the writing process.

The indexes themselves follow the change log (``follower.py``), on every host. Here, in
the process that wrote, two things happen right after commit: embeddings whose text
changed are dropped (so the embedding worker redoes them; logged like any change), and
this host's indexes catch up at once when no follower is busy with them.
"""

from __future__ import annotations

import logging

log = logging.getLogger("paperfeed.search")


def index_changed_papers(sender, paper_ids: list[int], **kwargs) -> None:
    from paperfeed.search.follower import catch_up_here
    from paperfeed.search.indexing import drop_stale_embeddings
    from paperfeed.search.service import get_engine

    engine = get_engine()
    try:
        drop_stale_embeddings(list(paper_ids), engine.model_name)
    except Exception:
        log.exception("could not check the embeddings of %d changed papers", len(paper_ids))
    catch_up_here(engine, wait=False)


def index_changed_since(sender, since, progress=None, **kwargs) -> None:
    from paperfeed.search.follower import follower_for
    from paperfeed.search.indexing import drop_stale_embeddings_since
    from paperfeed.search.service import get_engine

    engine = get_engine()
    drop_stale_embeddings_since(since, engine.model_name)
    # After a bulk import: wait for the lock, so the import returns with its papers
    # searchable here (as it did before the change log).
    count = follower_for(engine).catch_up(
        wait=True, progress=(lambda stage, done, total: progress(done, total))
        if progress else None)
    log.info("search indexes caught up after a bulk import: %s papers", count)
