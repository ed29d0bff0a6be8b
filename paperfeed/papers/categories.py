"""arXiv's category taxonomy, shipped as data (from arXiv's own OAI server test data)."""

from __future__ import annotations

import json
from importlib import resources


def arxiv_categories() -> list[dict]:
    """Rows of ``{code, name, archive, active}``; old archives without subjects use the archive."""
    text = (resources.files("paperfeed.papers") / "data" / "arxiv_categories.jsonl").read_text()
    rows = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        archive, subject = item["archive"], item["subject_class"]
        code = f"{archive}.{subject}" if subject else archive
        rows[code] = {"code": code, "name": item["category_name"], "archive": archive,
                      "active": bool(item["active"])}
    return list(rows.values())
