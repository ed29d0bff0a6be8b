"""Plain factories for digest tests (variations in code, not fixture files)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from paperfeed.digests.models import Subscriber
from paperfeed.lib.text import title_key
from paperfeed.papers.models import Paper

_numbers = itertools.count(1)


def make_paper(title: str | None = None, *, feed_date: dt.date, upvotes: int = 0,
               abstract: str = "", authors: list[str] | None = None, **fields) -> Paper:
    n = next(_numbers)
    title = title or f"Paper number {n}"
    return Paper.objects.create(
        title=title, title_key=title_key(title), slug=f"paper-{n}", arxiv_id=f"2611.{n:05d}",
        feed_date=feed_date, published_on=feed_date, upvotes_imported=upvotes,
        abstract=abstract or f"An abstract about {title.lower()}.",
        authors=authors if authors is not None else ["Ada Lovelace", "Alan Turing"], **fields,
    )


def make_subscriber(email: str = "reader@example.org", *, due: bool = True, **fields) -> Subscriber:
    fields.setdefault("status", Subscriber.Status.ACTIVE)
    subscriber = Subscriber(email=email, **fields)
    if due:
        subscriber.next_send_at = timezone.now() - dt.timedelta(minutes=1)
    else:
        subscriber.reschedule(timezone.now())
    subscriber.save()
    return subscriber
