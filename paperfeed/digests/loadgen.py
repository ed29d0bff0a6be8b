"""Many subscribers at once, for the reliability test and the benchmark.

Topics are drawn from the papers in the database (title words, categories and authors),
so personal digests really match something; the random generator is seeded, so two runs
create the same subscribers.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from django.utils import timezone

from paperfeed.digests.models import Subscriber
from paperfeed.papers.models import Category, Paper

TIME_ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
              "America/Los_Angeles", "Australia/Sydney", "Europe/London"]
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{4,}")


def _vocabulary() -> tuple[list[str], list[str], list[str]]:
    words: dict[str, int] = {}
    authors: set[str] = set()
    for title, names in Paper.objects.visible().values_list("title", "authors"):
        for word in _WORD.findall(title):
            words[word.lower()] = words.get(word.lower(), 0) + 1
        authors.update(names[:3] if names else [])
    keywords = [w for w, n in sorted(words.items(), key=lambda kv: -kv[1]) if n >= 2][:300]
    categories = list(Category.objects.filter(papers__isnull=False).values_list("code", flat=True)
                      .distinct()[:100])
    return keywords, categories, sorted(authors)[:300]


def seed_subscribers(count: int, *, topics: bool = True, due_at: dt.datetime | None = None,
                     seed: int = 7, start: int = 0, batch: int = 5000, quiet_hours: bool = False) -> int:
    """Create ``count`` active subscribers, due at ``due_at`` (default: a minute ago).

    ``quiet_hours`` puts every send hour 12 hours away from now (in UTC), so no new edition
    comes due while a test or benchmark runs.
    """
    rng = random.Random(seed)
    due_at = due_at or timezone.now() - dt.timedelta(minutes=1)
    keywords, categories, authors = _vocabulary() if topics else ([], [], [])
    rows = []
    for i in range(start, start + count):
        subscriber = Subscriber(
            email=f"reader{i}@example.org", status=Subscriber.Status.ACTIVE,
            time_zone="UTC" if quiet_hours else rng.choice(TIME_ZONES),
            send_hour=(timezone.now().hour + 12) % 24 if quiet_hours else rng.randrange(24),
            next_send_at=due_at, confirmed_at=due_at,
        )
        if topics and keywords:
            subscriber.keywords = rng.sample(keywords, k=min(len(keywords), rng.randint(1, 3)))
        if topics and categories and rng.random() < 0.5:
            subscriber.categories = rng.sample(categories, k=1)
        if topics and authors and rng.random() < 0.3:
            subscriber.authors = rng.sample(authors, k=1)
        rows.append(subscriber)
        if len(rows) >= batch:
            Subscriber.objects.bulk_create(rows)
            rows = []
    Subscriber.objects.bulk_create(rows)
    return count
