"""A live site for the layout, accessibility and security-header tests: the demo corpus
in the keyword index, a member, and a comment thread on the latest day's top paper."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}

COMMENT = """## What I liked

> The method scales to billions of parameters.

```
python train.py --population 262144
```

A closing line with `code`."""


@dataclass
class Site:
    url: str
    paper_url: str
    comment_id: int
    username: str = "ada"

    def pages(self) -> dict[str, str]:
        """The main pages, by name (a member sees them all when signed in)."""
        return {
            "daily": "/papers", "trending": "/papers/trending", "paper": self.paper_url,
            "search": "/papers/search?q=diffusion", "api docs": "/api/docs",
            "sign-in": "/accounts/login/", "for you": "/papers/for-you",
            "subscribe": "/digest/subscribe",
        }


@pytest.fixture
def site(live_server, transactional_db) -> Site:
    from paperfeed.community import comments
    from paperfeed.community.tests import factories
    from paperfeed.papers.models import Paper
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.service import get_engine
    from paperfeed.sources.demo import load_demo_corpus

    load_demo_corpus()
    rebuild(get_engine())
    member = factories.member("ada")
    paper = Paper.objects.filter(feed_date__isnull=False).order_by("-feed_date", "pk").first()
    first = comments.post_comment(member, paper, COMMENT)
    comments.post_comment(member, paper, "I agree, and here is why.", parent=first)
    with time_machine.travel(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), tick=True):
        yield Site(live_server.url, paper.get_absolute_url(), first.pk)


def sign_in(page, site: Site) -> None:
    from paperfeed.community.tests import factories

    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", site.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
