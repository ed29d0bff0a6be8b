"""The demo corpus: five listing pages saved from Hugging Face Daily Papers.

They ship inside the package (``paperfeed/papers/demo/seeds``) so a new install has a
working site without anything else on disk.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from paperfeed.papers.merge import MergeStats
from paperfeed.sources import pages
from paperfeed.sources.importing import import_records


def demo_files() -> list[Path]:
    folder = resources.files("paperfeed.papers") / "demo" / "seeds"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


def load_demo_corpus() -> MergeStats:
    total = MergeStats()
    for path in demo_files():
        total.add(import_records(pages.read_pages(path)))
    return total
