"""The demo corpus: real records saved from Hugging Face and arXiv, shipped in the package.

``paperfeed/papers/demo/`` holds (provenance in its README.md):

* ``seeds/``: five listing pages saved from Hugging Face Daily Papers (389 papers,
  titles, abstracts, author counts, upvotes; no names or arXiv ids);
* ``hf-daily/``: two whole days of Hugging Face's ``/api/daily_papers`` (30 papers each,
  with authors, submitter, organisation, upvotes, comments, GitHub repo and AI summary);
* ``arxiv-api/``: an arXiv API feed (25 cs.AI/LG/CL papers of 2026-07-30; three of them
  are also in the 2026-07-31 HF day, whose rows gain arXiv's categories);
* ``arxiv-oai/``: an OAI-PMH ``ListRecords`` page (46 cs papers, arXiv metadata format).

Each file goes through its source's own parser and :func:`import_records`, so identity,
merging and provenance are the ones real ingestion uses. arXiv records carry no feed day,
so the daily pages hold the seeds' days and the two HF days, the newest being 2026-07-31:
``/papers`` opens on a full day of 30 papers.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from paperfeed.papers.merge import MergeStats
from paperfeed.papers.records import PaperRecord
from paperfeed.sources import arxiv_api, arxiv_oai, hf_daily, pages
from paperfeed.sources.importing import import_records


def demo_dir() -> Path:
    return Path(str(resources.files("paperfeed.papers") / "demo"))


def _files(folder: str, suffix: str) -> list[Path]:
    return sorted(p for p in (demo_dir() / folder).iterdir() if p.name.endswith(suffix))


def demo_files() -> list[Path]:
    """The saved listing pages (the seeds)."""
    return _files("seeds", ".txt")


def _where(path: Path) -> str:
    return f"demo file {path.parent.name}/{path.name}"


def demo_records() -> Iterator[PaperRecord]:
    """Every demo record, seeds first, each file through its source's parser."""
    for path in demo_files():
        yield from pages.read_pages(path)
    for path in _files("arxiv-api", ".xml"):
        yield from arxiv_api.parse_feed(path.read_bytes(), _where(path)).records
    for path in _files("arxiv-oai", ".xml"):
        yield from arxiv_oai.parse_list_records(path.read_bytes(), _where(path)).records
    for path in _files("hf-daily", ".json"):
        yield from hf_daily.parse_page(path.read_bytes(), _where(path))


def load_demo_corpus() -> MergeStats:
    return import_records(demo_records())
