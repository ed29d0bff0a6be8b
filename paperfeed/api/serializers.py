"""Papers as JSON: Hugging Face's shapes (for HF clients) and paperfeed's own (``/api/v1``).

The Hugging Face shapes follow the real ``/api/daily_papers`` responses kept in
``shared/fixtures/hf-api`` and what ``huggingface_hub.PaperInfo`` reads. Fields paperfeed
has no data for (avatars, thumbnails, Mongo ``_id`` values) are left out rather than
invented; HF clients treat them as optional.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest

from paperfeed.lib.text import abstract_paragraphs, title_key, title_slug
from paperfeed.papers.models import Paper


def hf_timestamp(day: dt.date | None) -> str | None:
    # HF writes midnight UTC with milliseconds: 2026-05-30T00:00:00.000Z.
    return f"{day.isoformat()}T00:00:00.000Z" if day else None


def _hf_user(paper: Paper, *, on_paper: bool) -> dict | None:
    handle = paper.submitted_by
    if not handle:
        return None
    # HF repeats the user name as ``user`` inside the paper object but not on the item;
    # ``fullname`` is the display name (the handle when none is known).
    user = {"user": handle} if on_paper else {}
    return {**user, "name": handle, "fullname": paper.submitter_name or handle, "type": "user"}


def _hf_organization(paper: Paper) -> dict | None:
    # HF's ``name`` is the organisation's handle (caltech), ``fullname`` its name. Sources
    # that only give the name (saved pages) get a handle made from it: clients need one.
    if not paper.organization:
        return None
    handle = paper.organization_handle or title_slug(paper.organization)
    return {"name": handle, "fullname": paper.organization}


def _same_person(a: str, b: str) -> bool:
    return bool(a) and title_key(a) == title_key(b)


def author_participating(paper: Paper) -> bool:
    """HF's ``isAuthorParticipating``: what HF said for its papers (its own rule, which
    follows authors' claims and discussions), else whether the submitter is an author."""
    if paper.author_participating is not None:
        return paper.author_participating
    submitter = paper.submitter_name
    return bool(submitter) and any(_same_person(submitter, name) for name in paper.authors)


def hf_summary(abstract: str) -> str:
    # Paragraphs are stored one per line; HF (copying arXiv) indents each new one.
    return "\n  ".join(abstract_paragraphs(abstract))


def _drop_none(data: dict) -> dict:
    return {key: value for key, value in data.items() if value is not None}


def hf_paper(paper: Paper) -> dict:
    """The ``paper`` object of a daily-papers item, also the body of ``/api/papers/{id}``."""
    return _drop_none({
        "id": paper.public_id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": hf_timestamp(paper.published_on),
        "submittedOnDailyAt": hf_timestamp(paper.feed_date),
        "title": paper.title,
        "submittedOnDailyBy": _hf_user(paper, on_paper=True),
        "summary": hf_summary(paper.abstract),
        "upvotes": paper.total_upvotes,
        "numComments": paper.total_comments,
        "ai_summary": paper.ai_summary or None,
        "ai_keywords": list(paper.ai_keywords) or None,
        "githubRepo": paper.code_url or None,
        "githubStars": paper.github_stars if paper.code_url else None,
        "projectPage": paper.project_url or None,
        "organization": _hf_organization(paper),
    })


def hf_daily_item(paper: Paper) -> dict:
    """One element of ``/api/daily_papers`` and ``/api/papers/search``."""
    inner = hf_paper(paper)
    inner.pop("numComments", None)  # HF puts it on the item, not the paper
    return _drop_none({
        "paper": inner,
        "publishedAt": hf_timestamp(paper.published_on),
        "title": paper.title,
        "summary": inner["summary"],
        "numComments": paper.total_comments,
        "submittedBy": _hf_user(paper, on_paper=False),
        "organization": inner.get("organization"),
        "isAuthorParticipating": author_participating(paper),
    })


def v1_paper(request: HttpRequest, paper: Paper, *, detail: bool = False) -> dict:
    """paperfeed's own shape: plain snake_case, dates as ISO days, absolute links."""
    public_id = paper.public_id
    # Exports live at the page URL plus a suffix (see api/urls.py): one reverse() per row.
    page_url = request.build_absolute_uri(paper.get_absolute_url())
    data = {
        "id": public_id,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "author_count": paper.shown_author_count,
        "categories": [c.code for c in paper.categories.all()],
        "primary_category": paper.primary_category_id,
        "published_on": paper.published_on.isoformat() if paper.published_on else None,
        "updated_on": paper.updated_on.isoformat() if paper.updated_on else None,
        "feed_date": paper.feed_date.isoformat() if paper.feed_date else None,
        "upvotes": paper.total_upvotes,
        "comments": paper.total_comments,
        "url": page_url,
        "arxiv_url": paper.arxiv_url or None,
        "pdf_url": paper.best_pdf_url or None,
        "code_url": paper.code_url or None,
        "github_stars": paper.github_stars,
        "project_url": paper.project_url or None,
        "organization": paper.organization or None,
        "submitted_by": paper.submitted_by or None,
        "ai_summary": paper.ai_summary or None,
        "ai_keywords": list(paper.ai_keywords),
        "bibtex_url": page_url + ".bib",
        "ris_url": page_url + ".ris",
    }
    if detail:
        data.update(
            journal_ref=paper.journal_ref or None,
            doi=paper.doi or None,
            arxiv_comments=paper.arxiv_comments or None,
            license=paper.license or None,
            versions=[
                {"version": v.version, "size": v.size or None,
                 "submitted_at": v.submitted_at.isoformat() if v.submitted_at else None}
                for v in paper.versions.all()
            ],
        )
    return data
