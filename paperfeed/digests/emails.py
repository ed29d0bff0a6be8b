"""E-mails as template triplets: ``<name>-subject.txt``, ``<name>-body.txt``, ``<name>-body.html``.

The HTML part carries its CSS inline and no images, so it renders the same in webmail and
desktop clients and needs nothing fetched from the network.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import mark_safe

from paperfeed.digests import tokens
from paperfeed.digests.models import Subscriber
from paperfeed.digests.schedule import edition_label

_TEMPLATES = "digests/email/"
_MAX_AUTHORS = 5


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def render_triplet(name: str, context: dict) -> tuple[str, str, str]:
    subject = get_template(f"{_TEMPLATES}{name}-subject.txt").render(context)
    text = get_template(f"{_TEMPLATES}{name}-body.txt").render(context)
    html = get_template(f"{_TEMPLATES}{name}-body.html").render(context)
    # A header cannot hold a line break: templates may end in one, titles may hold some.
    return " ".join(subject.split()), text, html


def make_message(name: str, context: dict, to: str, headers: dict | None = None,
                 connection=None) -> EmailMultiAlternatives:
    subject, text, html = render_triplet(name, context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to],
                                     headers=headers or {}, connection=connection)
    message.attach_alternative(html, "text/html")
    return message


def subscriber_links(subscriber: Subscriber) -> dict[str, str]:
    token = tokens.manage_token(subscriber)
    return {
        "manage_url": absolute(reverse("digests:manage", args=[token])),
        "unsubscribe_url": absolute(reverse("digests:unsubscribe", args=[token])),
    }


def _paper_fields(paper) -> dict:
    authors = list(paper.authors or [])
    shown = ", ".join(authors[:_MAX_AUTHORS])
    if len(authors) > _MAX_AUTHORS:
        shown += f" and {len(authors) - _MAX_AUTHORS} more"
    elif not authors and paper.author_count:
        shown = f"{paper.author_count} authors"
    return {
        "title": " ".join(paper.title.split()),
        "authors": shown,
        "abstract": paper.abstract_snippet,
        "upvotes": paper.total_upvotes,
        "url": absolute(paper.get_absolute_url()),
        "pdf_url": paper.best_pdf_url,
    }


def digest_message_id(subscriber_pk: int, edition: str) -> str:
    # Deterministic per (subscriber, edition): should an operator ever resend an in-doubt
    # digest, clients that already have it can recognise the copy.
    return f"<{edition.replace(':', '.')}.{subscriber_pk}.digest@{_site_domain()}>"


def paper_block(paper, cache: dict[int, dict] | None = None) -> dict:
    """A paper's part of a digest, rendered once and reused for every subscriber who gets it."""
    if cache is not None and paper.pk in cache:
        return cache[paper.pk]
    fields = _paper_fields(paper)
    block = {
        "title": fields["title"],
        "text": get_template(f"{_TEMPLATES}_paper.txt").render({"paper": fields}).strip("\n"),
        "html": mark_safe(get_template(f"{_TEMPLATES}_paper.html").render({"paper": fields})),
    }
    if cache is not None:
        cache[paper.pk] = block
    return block


def digest_message(subscriber: Subscriber, edition: str, papers: list, connection=None,
                   links: dict[str, str] | None = None,
                   blocks: dict[int, dict] | None = None) -> EmailMultiAlternatives:
    cadence, period = edition_label(edition)
    links = links or subscriber_links(subscriber)
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "cadence": cadence,
        "period": period,
        "papers": [paper_block(p, blocks) for p in papers],
        "more": len(papers) - 1,
        **links,
    }
    headers = {
        "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"{settings.SITE_NAME} {cadence.lower()} digest <digest.{_site_domain()}>",
        "Auto-Submitted": "auto-generated",
        "Message-ID": digest_message_id(subscriber.pk, edition),
        "X-Paperfeed-Edition": edition,
    }
    return make_message("digest", context, subscriber.email, headers, connection)
