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
from django.core.cache import cache
from django.middleware.csrf import _does_token_match
from django.test import Client, override_settings
from django.urls import reverse

from paperfeed.community import comments, moderation
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase
from paperfeed.papers import fastpath, pagecache
from paperfeed.papers.models import Paper
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


class FastPathTests(CommunityTestCase):
    """Anonymous hits answered by papers/fastpath.py, before sessions and the rest."""

    def get(self, url=DAY, client=None, **headers):
        return (client or self.client).get(url, headers=headers)

    def fast(self, url=DAY, client=None, method="get", **headers):
        served = fastpath.stats["served"]
        response = getattr(client or self.client, method)(url, headers=headers)
        return response, fastpath.stats["served"] == served + 1

    def test_a_cached_page_is_answered_before_the_rest_of_the_stack(self):
        first, fast = self.fast()
        assert first.status_code == 200 and not fast  # rendered down the stack, then stored
        with self.assertNumQueries(0):
            second, fast = self.fast()
        assert fast and second.content == first.content.replace(
            _token(first).encode(), _token(second).encode())
        # What the skipped middleware and the one above would have added.
        assert second["X-Frame-Options"] == "DENY" and "default-src" in second["Content-Security-Policy"]
        assert second["Content-Length"] == str(len(second.content)) and second["Vary"] == "Cookie"
        assert second["ETag"] == first["ETag"]

    def test_its_csrf_token_lets_the_visitor_subscribe_and_a_forged_one_does_not(self):
        client = Client(enforce_csrf_checks=True)
        client.get(DAY)  # stored
        page, fast = self.fast(client=client)
        assert fast and page.cookies["csrftoken"].value
        token = _token(page)
        assert _does_token_match(token, page.cookies["csrftoken"].value)
        ok = client.post(reverse("digests:subscribe"), {"email": "reader@example.org",
                                                        "csrfmiddlewaretoken": token})
        assert ok.status_code == 302, ok.content[:300]
        forged = token[:-1] + ("a" if token[-1] != "a" else "b")
        refused = Client(enforce_csrf_checks=True)
        refused.cookies["csrftoken"] = page.cookies["csrftoken"].value
        assert refused.post(reverse("digests:subscribe"), {
            "email": "other@example.org", "csrfmiddlewaretoken": forged}).status_code == 403
        # A visitor who has a cookie keeps it: the token is masked from their secret.
        returning = Client()
        returning.cookies["csrftoken"] = page.cookies["csrftoken"].value
        again, fast = self.fast(client=returning)
        assert fast and _does_token_match(_token(again), page.cookies["csrftoken"].value)
        assert again.cookies["csrftoken"].value == page.cookies["csrftoken"].value

    def test_a_vote_an_ingest_and_a_hide_each_change_the_fast_page(self):
        self.get()
        assert self.fast()[1]
        self.as_member()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
        self.as_outsider()
        response, fast = self.fast()
        assert not fast and '<span class="count">11</span>' in response.content.decode()
        assert self.fast()[1]
        with self.captureOnCommitCallbacks(execute=True):
            ingested_paper(title="Freshly ingested", feed_date=dt.date(2026, 11, 20))
        response, fast = self.fast()
        assert not fast and "Freshly ingested" in response.content.decode()
        with self.captureOnCommitCallbacks(execute=True):
            moderation.moderate_paper(self.curator, self.paper, "hide-paper", "spam")
        response, fast = self.fast()
        assert not fast and self.paper.title not in response.content.decode()

    def test_a_change_made_by_another_process_shows_within_the_documented_bound(self):
        with override_settings(PAGE_CACHE_MIN_SECONDS=1), \
                time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
            self.get()
            clock.shift(2)  # the page is past its grace period; the generation was just read
            assert self.fast()[1]
            # Another web process records a vote: the shared generation moves on, this
            # process has not read it yet.
            Paper.objects.filter(pk=self.paper.pk).update(upvotes_local=5)
            cache.incr(pagecache.GENERATION_KEY)
            clock.shift(0.5)
            stale, fast = self.fast()
            assert fast and '<span class="count">10</span>' in stale.content.decode()
            clock.shift(0.6)  # 1.1 s after the change: past PAGE_CACHE_MIN_SECONDS
            fresh, fast = self.fast()
            assert not fast and '<span class="count">15</span>' in fresh.content.decode()

    def test_a_session_cookie_never_gets_the_fast_page_or_another_members_page(self):
        self.get()
        self.as_member()
        member_page, fast = self.fast()
        assert not fast and ">member</a>" in member_page.content.decode()
        owner = Client()
        owner.force_login(self.owner)
        owner_page, fast = self.fast(client=owner)
        html = owner_page.content.decode()
        assert not fast and ">owner</a>" in html and ">member</a>" not in html
        stranger = Client()
        stranger.cookies["sessionid"] = "made-up"
        page, fast = self.fast(client=stranger)
        assert not fast and "Sign in" in page.content.decode()
        assert ">member</a>" not in page.content.decode()

    def test_head_and_conditional_gets_are_answered_too(self):
        first = self.get()
        head, fast = self.fast(method="head")
        assert fast and head.status_code == 200 and head["ETag"] == first["ETag"]
        not_modified, fast = self.fast(If_None_Match=first["ETag"])
        assert fast and not_modified.status_code == 304 and not_modified.content == b""
        since, fast = self.fast(If_Modified_Since=first["Last-Modified"])
        assert fast and since.status_code == 304

    def test_each_query_string_is_a_page_of_its_own(self):
        factories.paper("A vision paper")  # in no category
        everything = self.get().content.decode()
        filtered = self.get(DAY + "?category=cs.CV").content.decode()
        assert "A vision paper" in everything and "A vision paper" not in filtered
        again, fast = self.fast(DAY + "?category=cs.CV")
        assert fast and "A vision paper" not in again.content.decode()
        assert "A vision paper" in self.fast()[0].content.decode()

    def test_a_flash_message_cookie_and_a_post_go_down_the_stack(self):
        self.get()
        self.client.cookies["messages"] = "something for this visitor"
        assert not self.fast()[1]
        del self.client.cookies["messages"]
        assert self.fast()[1]
        assert not self.fast(method="post")[1]

    def test_a_host_outside_allowed_hosts_is_refused(self):
        self.get()
        assert self.get(HOST="evil.example").status_code == 400

    def test_metrics_count_it_under_its_route(self):
        from paperfeed import ops

        self.get()
        route = "papers/date/<isodate:date>"
        before = ops.REQUESTS.labels(route, "GET", "200")._value.get()
        assert self.fast()[1]
        assert ops.REQUESTS.labels(route, "GET", "200")._value.get() == before + 1


class MemberPagesTests(CommunityTestCase):
    """A member's page from the cache equals what a full render would show them."""

    def setUp(self):
        self.other = factories.paper("Another paper of the day")
        with self.captureOnCommitCallbacks(execute=True):
            first = comments.post_comment(self.owner, self.paper, "The owner's comment")
            comments.post_comment(self.member, self.paper, "A reply", parent=first)
            hidden = comments.post_comment(self.member, self.paper, "Spam")
            moderation.moderate_comment(self.curator, hidden, True, "spam")
        self.as_member()
        self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
        self.client.post(reverse("community:vote", args=[self.other.pk]), {"vote": "1"})

    def assert_cached_page_is_the_full_render(self, url: str, persona) -> None:
        self.client.force_login(persona)
        with override_settings(PAGE_CACHE_SECONDS=0):
            full = self.client.get(url)
        self.client.get(url)  # stored (rendered for an anonymous reader), then personalised
        hits = pagecache.stats["hits"]
        cached = self.client.get(url)
        assert pagecache.stats["hits"] == hits + 1 and cached.status_code == full.status_code == 200
        assert _untokened(cached) == _untokened(full), persona

    def test_the_paper_page_for_a_voter_a_commenter_and_a_curator(self):
        url = self.paper.get_absolute_url()
        for persona in (self.member, self.owner, self.curator):
            self.assert_cached_page_is_the_full_render(url, persona)
        html = self.client.get(url).content.decode()  # the curator's copy
        assert "Curate" in html and "Hide comment" in html and "[hidden by a curator: spam]" in html
        self.client.force_login(self.owner)
        html = self.client.get(url).content.decode()
        assert "Add a comment" in html and html.count(">Edit</a>") == 1 and "Curate" not in html
        self.client.force_login(self.member)
        html = self.client.get(url).content.decode()
        assert 'aria-pressed="true"' in html and "Upvoted" in html

    def test_the_listing_pages_for_a_voter_and_a_curator(self):
        for url in (DAY, "/papers/week/2026-W47", "/papers/month/2026-11"):
            for persona in (self.member, self.curator):
                self.assert_cached_page_is_the_full_render(url, persona)

    def test_a_members_paper_page_costs_a_few_queries_not_a_render(self):
        url = self.paper.get_absolute_url()
        self.client.force_login(self.member)
        self.client.get(url)
        # The session, the member, their votes, the paper, its submitter, the curator
        # check (permissions, groups), the comments.
        with self.assertNumQueries(8):
            response = self.client.get(url)
        assert "Add a comment" in response.content.decode()


def _untokened(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "TOKEN", response.content.decode())


def _token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                     response.content.decode()).group(1)


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
@override_settings(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379/13",
    "KEY_PREFIX": f"paperfeed-test-{uuid.uuid4().hex}", "TIMEOUT": 300}})
class RedisFastPathTests(FastPathTests):
    pass
