"""Cached hot pages (papers/pagecache.py): each event that changes a page retires it,
members see their own state on the cached page, conditional GETs get 304s.

Run twice: with the local-memory cache, and with the Redis server on 127.0.0.1:6379."""

from __future__ import annotations

import datetime as dt
import re
import socket
import uuid

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from paperfeed.community import comments, moderation
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase
from paperfeed.papers import pagecache
from paperfeed.papers.tests.factories import paper as ingested_paper

DAY = "/papers/date/2026-11-20"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


class PageCacheTests(CommunityTestCase):
    def get(self, url=DAY, **headers):
        return self.client.get(url, headers=headers)

    def served_from_cache(self, url=DAY):
        hits = pagecache.stats["hits"]
        response = self.get(url)
        return response, pagecache.stats["hits"] == hits + 1

    def test_an_anonymous_page_is_rendered_once_then_served_without_queries(self):
        first = self.get()
        assert first.status_code == 200 and self.paper.title in first.content.decode()
        with self.assertNumQueries(0):
            second, hit = self.served_from_cache()
        assert hit and second.content.decode().count("pf-csrf") == 0
        # Each visitor gets a CSRF token of their own, never the one cached.
        token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
        assert token.search(first.content.decode()).group(1) != \
            token.search(second.content.decode()).group(1)

    def test_a_vote_shows_on_the_cached_day_page(self):
        self.get()
        assert "<span class=\"count\">10</span>" in self.get().content.decode()
        self.as_member()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
        self.as_outsider()
        response, hit = self.served_from_cache()
        assert not hit and "<span class=\"count\">11</span>" in response.content.decode()

    def test_an_ingest_shows_on_the_cached_pages(self):
        self.get()
        with self.captureOnCommitCallbacks(execute=True):
            ingested_paper(title="Freshly ingested", feed_date=dt.date(2026, 11, 20))
        response, hit = self.served_from_cache()
        assert not hit and "Freshly ingested" in response.content.decode()

    def test_a_curator_hiding_a_paper_removes_it_from_the_cached_page(self):
        assert self.paper.title in self.get().content.decode()
        with self.captureOnCommitCallbacks(execute=True):
            moderation.moderate_paper(self.curator, self.paper, "hide-paper", "spam")
        assert self.paper.title not in self.get().content.decode()

    def test_a_comment_shows_on_the_cached_paper_page(self):
        url = self.paper.get_absolute_url()
        self.get(url)
        assert self.served_from_cache(url)[1]
        with self.captureOnCommitCallbacks(execute=True):
            comments.post_comment(self.member, self.paper, "A remarkable result")
        response, hit = self.served_from_cache(url)
        assert not hit and "A remarkable result" in response.content.decode()

    def test_members_get_the_cached_page_with_their_own_marks(self):
        other = factories.paper("Another paper of the day")
        self.as_member()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("community:vote", args=[other.pk]), {"vote": "1"})
        self.as_outsider()
        anonymous = self.get().content.decode()
        assert anonymous.count('aria-pressed="true"') == 0 and "Sign in" in anonymous
        self.as_member()
        # From the cache: the session, the member, their votes on the page.
        with self.assertNumQueries(3):
            response, hit = self.served_from_cache()
        html = response.content.decode()
        assert hit and ">member</a>" in html and "Sign out" in html and "For you" in html
        pressed = re.findall(r'action="/votes/(\d+)/".*?aria-pressed="(\w+)"', html, re.S)
        assert dict(pressed) == {str(other.pk): "true", str(self.paper.pk): "false"}
        assert "Remove your upvote: Another paper of the day" in html
        # The anonymous copy is untouched by the member's visit.
        self.as_outsider()
        assert 'aria-pressed="true"' not in self.get().content.decode()

    def test_a_conditional_get_gets_304_until_the_page_changes(self):
        first = self.get()
        etag = first["ETag"]
        assert first["Last-Modified"]
        not_modified = self.get(If_None_Match=etag)
        assert not_modified.status_code == 304 and not_modified.content == b""
        with self.captureOnCommitCallbacks(execute=True):
            ingested_paper(title="Changes the page", feed_date=dt.date(2026, 11, 20))
        changed = self.get(If_None_Match=etag)
        assert changed.status_code == 200 and changed["ETag"] != etag
        since = self.get(If_Modified_Since=changed["Last-Modified"])
        assert since.status_code == 304
        for url in ("/papers", "/papers/trending", "/papers/week/2026-W47", "/papers/month/2026-11",
                    self.paper.get_absolute_url()):
            tag = self.get(url)["ETag"]
            assert self.get(url, If_None_Match=tag).status_code == 304, url

    def test_under_a_stream_of_votes_a_page_is_rendered_at_most_once_a_second(self):
        from django.test import override_settings

        self.as_member()
        with override_settings(PAGE_CACHE_MIN_SECONDS=1), \
                time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
            self.as_outsider()
            self.get()
            self.as_member()
            with self.captureOnCommitCallbacks(execute=True):
                self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
            self.as_outsider()
            stale, hit = self.served_from_cache()
            assert hit and '<span class="count">10</span>' in stale.content.decode()
            clock.shift(1.01)
            fresh, hit = self.served_from_cache()
            assert not hit and '<span class="count">11</span>' in fresh.content.decode()

    def test_posts_and_flash_messages_are_never_cached(self):
        self.get()
        self.client.cookies["messages"] = "something for this visitor"
        assert not self.served_from_cache()[1]


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
@override_settings(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379/0",
    # Its own namespace: the server is shared, so no test may flush it.
    "KEY_PREFIX": f"paperfeed-test-{uuid.uuid4().hex}", "TIMEOUT": 300}})
class RedisPageCacheTests(PageCacheTests):
    pass
