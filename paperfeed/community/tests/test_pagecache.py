"""Cached hot pages (papers/pagecache.py): each event that changes a page retires it,
members see their own state on the cached page, conditional GETs get 304s.

Run twice: with the local-memory cache, and with the Redis server on 127.0.0.1:6379."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import re
import socket
import threading
import time
import urllib.request
import uuid
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, _does_token_match
from django.test import Client, override_settings
from django.urls import reverse

from paperfeed.community import comments, moderation
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase
from paperfeed.papers import fastpath, pagecache, pagegen, renderclaims
from paperfeed.papers.models import Paper
from paperfeed.papers.tests.factories import paper as ingested_paper

DAY = "/papers/date/2026-11-20"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def _as_another_process():
    """What this process knows of the generations stays as it was: the change made
    inside is another web process's."""
    values, changes = dict(pagegen.known.values), pagegen.known.changes
    yield
    pagegen.known.values, pagegen.known.changes = values, changes


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

    def test_a_vote_or_comment_retires_its_papers_page_and_the_listings_only(self):
        other = factories.paper("A paper nobody touches")
        mine, theirs = self.paper.get_absolute_url(), other.get_absolute_url()
        for url in (mine, theirs, DAY):
            self.get(url)
        self.as_member()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
        self.as_outsider()
        response, hit = self.served_from_cache(mine)
        assert not hit and '<span class="count">11</span>' in response.content.decode()
        assert not self.served_from_cache(DAY)[1]  # the listing shows the count too
        assert self.served_from_cache(theirs)[1]
        with self.captureOnCommitCallbacks(execute=True):
            comments.post_comment(self.member, other, "Now somebody does")
        response, hit = self.served_from_cache(theirs)
        assert not hit and "Now somebody does" in response.content.decode()
        assert self.served_from_cache(mine)[1]

    def test_an_ingest_retires_the_pages_of_the_papers_it_changed(self):
        other = factories.paper("A paper the ingest leaves alone")
        mine, theirs = self.paper.get_absolute_url(), other.get_absolute_url()
        for url in (mine, theirs, DAY):
            self.get(url)
        Paper.objects.filter(pk=self.paper.pk).update(title="Attention, revised")
        pagegen.on_papers_changed(Paper, paper_ids=[self.paper.pk])  # as the merge sends it
        response, hit = self.served_from_cache(mine)
        assert not hit and "Attention, revised" in response.content.decode()
        assert not self.served_from_cache(DAY)[1] and self.served_from_cache(theirs)[1]
        # A bulk import names no papers (papers_changed_since): every page goes.
        pagegen.on_papers_changed(Paper, since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
        assert not self.served_from_cache(theirs)[1]
        self.get(mine)
        many = list(range(1, pagegen.PAPER_SCOPES_MAX + 2))
        pagegen.on_papers_changed(Paper, paper_ids=many)  # too many to name one by one
        assert not self.served_from_cache(mine)[1]

    def test_when_the_changed_papers_cannot_be_read_every_page_goes(self):
        from unittest import mock

        from django.db import OperationalError

        other = factories.paper("Not changed, retired anyway")
        self.get(other.get_absolute_url())
        locked = OperationalError("database table is locked: papers_paper")
        with mock.patch.object(Paper.objects, "filter", side_effect=locked), \
                self.assertLogs("paperfeed.papers", "WARNING") as logged:
            pagegen.on_papers_changed(Paper, paper_ids=[self.paper.pk])
        assert "retiring every page" in logged.output[0]
        assert not self.served_from_cache(other.get_absolute_url())[1]

    def test_a_curators_action_retires_every_papers_page(self):
        other = factories.paper("It may list the hidden paper as related")
        self.get(other.get_absolute_url())
        with self.captureOnCommitCallbacks(execute=True):
            moderation.moderate_paper(self.curator, self.paper, "hide-paper", "spam")
        assert not self.served_from_cache(other.get_absolute_url())[1]

    def test_a_paper_generation_lost_by_the_cache_never_brings_an_old_page_back(self):
        url = self.paper.get_absolute_url()
        self.get(url)
        self.as_member()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
        self.as_outsider()
        # The page of 10 votes is still stored; its paper's generation is evicted (an LRU
        # cache under memory pressure) before anyone read the page again.
        cache.delete(pagegen.paper_scope(self.paper.public_id))
        response, hit = self.served_from_cache(url)
        assert not hit and '<span class="count">11</span>' in response.content.decode()

    def test_a_papers_page_is_kept_longer_than_a_listing_in_a_shared_cache(self):
        url = self.paper.get_absolute_url()
        shared = "locmem" not in type(caches["default"]).__module__
        with override_settings(PAGE_CACHE_SECONDS=60, PAPER_PAGE_CACHE_SECONDS=600), \
                time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
            self.get(url)
            self.get(DAY)
            clock.shift(120)
            # In each process's own memory another process's ingest could not retire it.
            assert self.served_from_cache(url)[1] is shared
            assert not self.served_from_cache(DAY)[1]
            clock.shift(600)
            assert not self.served_from_cache(url)[1]

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

    def vote_on_the_paper(self):
        self.as_member()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("community:vote", args=[self.paper.pk]), {"vote": "1"})
        self.as_outsider()

    def test_while_another_request_renders_a_stale_page_its_old_copy_is_served(self):
        self.get()
        self.vote_on_the_paper()
        key = "http://testserver" + DAY
        assert renderclaims.claim(key)  # as another request (or process) re-rendering it
        try:
            misses, stale = pagecache.stats["misses"], pagecache.stats["stale"]
            for member in (False, True):  # the fast path, and the view's own decorator
                if member:
                    self.as_member()
                html = self.get().content.decode()
                assert '<span class="count">10</span>' in html and ("Sign out" in html) is member
            assert pagecache.stats["stale"] == stale + 2 and pagecache.stats["misses"] == misses
        finally:
            renderclaims.release(key)
        self.as_outsider()
        response, hit = self.served_from_cache()
        assert not hit and '<span class="count">11</span>' in response.content.decode()
        assert not renderclaims.rendering(key)  # the render's own claim was released

    def test_a_stale_page_with_nobody_rendering_it_is_rendered_not_served(self):
        self.get()
        self.vote_on_the_paper()
        stale = pagecache.stats["stale"]
        assert '<span class="count">11</span>' in self.get().content.decode()
        assert pagecache.stats["stale"] == stale

    def test_a_stale_copy_is_never_served_past_its_ttl_and_the_claims_lifetime(self):
        key = "http://testserver" + DAY
        with override_settings(PAGE_CACHE_SECONDS=60), time_machine.travel(
                dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
            self.get()
            with self.captureOnCommitCallbacks(execute=True):
                ingested_paper(title="Arrived later", feed_date=dt.date(2026, 11, 20))
            clock.shift(60 + renderclaims.RENDER_CLAIM_SECONDS)
            assert renderclaims.claim(key)
            try:
                assert "Arrived later" in self.get().content.decode()
            finally:
                renderclaims.release(key)

    def test_a_render_that_fails_gives_up_its_claim(self):
        self.get()
        self.vote_on_the_paper()
        key = "http://testserver" + DAY

        def broken(*args, **kwargs):
            assert renderclaims.rendering(key)  # claimed while it renders
            raise RuntimeError("the database went away")

        with mock.patch.object(pagecache, "_render", broken), \
                pytest.raises(RuntimeError, match="went away"):
            self.get()
        assert not renderclaims.rendering(key)
        assert '<span class="count">11</span>' in self.get().content.decode()

    def test_a_process_rendering_all_it_may_serves_other_stale_pages_stale(self):
        self.get()
        self.vote_on_the_paper()
        others = [f"http://testserver/elsewhere/{n}" for n in range(renderclaims.RENDERS_AT_ONCE)]
        assert all(renderclaims.claim(key) for key in others)  # this process is busy rendering
        try:
            assert not renderclaims.claim("http://testserver" + DAY)
            assert '<span class="count">10</span>' in self.get().content.decode()
        finally:
            for key in others:
                renderclaims.release(key)
        assert '<span class="count">11</span>' in self.get().content.decode()

    def test_a_request_for_a_page_another_thread_is_rendering_waits_for_that_render(self):
        url = f"{DAY}?never-cached={uuid.uuid4().hex}"  # no copy at all, not even a stale one
        key = "http://testserver" + url
        assert renderclaims.join_render(key) is None  # this thread renders it first
        answers = []
        waiter = threading.Thread(target=lambda: answers.append(Client().get(url)))
        misses = pagecache.stats["misses"]
        try:
            waiter.start()
            waiter.join(0.5)
            assert waiter.is_alive()  # waiting, not rendering it too
            body = b"<p>rendered once, by the first request</p>"
            generation = pagecache.lookup(key).generation
            entry = pagecache.Entry(body, "text/html; charset=utf-8", '"once"', time.time(),
                                    generation)
            cache.set(pagecache._shared_key(key), entry)
        finally:
            renderclaims.end_render(key)
        waiter.join(10)
        assert answers[0].status_code == 200 and answers[0].content == body
        assert pagecache.stats["misses"] == misses

    def test_one_claim_among_many_threads(self):
        key = f"http://testserver/claimed/{uuid.uuid4().hex}"
        start = threading.Barrier(16)
        won = []

        def contend():
            start.wait()
            won.append(renderclaims.claim(key))

        threads = [threading.Thread(target=contend) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(won) == [False] * 15 + [True]
        renderclaims.release(key)
        assert renderclaims.claim(key)  # free again once released
        renderclaims.release(key)


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
@override_settings(CACHES={"default": {
    "BACKEND": "paperfeed.rediscache.RedisCache",
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
        assert second["Content-Length"] == str(len(second.content))
        assert second["Vary"] == "Cookie, Accept-Encoding" and not second.has_header("Content-Encoding")
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

    def test_the_fast_pages_csrf_cookie_is_the_one_django_writes(self):
        plain = {}
        strict = {"CSRF_COOKIE_SECURE": True, "CSRF_COOKIE_HTTPONLY": True,
                  "CSRF_COOKIE_SAMESITE": "Strict", "CSRF_COOKIE_AGE": 3600,
                  "CSRF_COOKIE_NAME": "pf_csrf", "CSRF_COOKIE_PATH": "/papers"}
        for options in (plain, strict, plain):  # the cookie follows each change of settings
            with override_settings(**options), time_machine.travel(
                    dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
                self.get()  # stored
                for _ in range(2):  # a second later, a new expiry date
                    page, fast = self.fast(client=Client())
                    sent = page.cookies[settings.CSRF_COOKIE_NAME]
                    request, response = HttpRequest(), HttpResponse()
                    request.META.update(CSRF_COOKIE=sent.value, CSRF_COOKIE_NEEDS_UPDATE=True)
                    CsrfViewMiddleware(lambda r, response=response: response).process_response(
                        request, response)
                    assert fast and sent.output() == response.cookies[
                        settings.CSRF_COOKIE_NAME].output()
                    assert _does_token_match(_token(page), sent.value)
                    if options:
                        assert "Max-Age=3600; Path=/papers; SameSite=Strict; Secure" in sent.output()
                    clock.shift(1)

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
            cache.incr(pagegen.GENERATION_KEY)
            clock.shift(0.5)
            stale, fast = self.fast()
            assert fast and '<span class="count">10</span>' in stale.content.decode()
            clock.shift(0.6)  # 1.1 s after the change: past PAGE_CACHE_MIN_SECONDS
            fresh, fast = self.fast()
            assert not fast and '<span class="count">15</span>' in fresh.content.decode()

    def asked_for(self, url: str) -> tuple[HttpResponse, bool, list[str]]:
        """The fast path's answer for ``url``, and the keys it asked the shared cache for."""
        asked: list[str] = []
        real = cache.get_many

        def get_many(keys, *args, **kwargs):
            asked.extend(keys)
            return real(keys, *args, **kwargs)

        with mock.patch.object(cache, "get_many", get_many):
            response, fast = self.fast(url)
        return response, fast, asked

    def test_another_processs_change_to_a_paper_shows_the_others_are_not_asked_again(self):
        """Papers' generations are followed through the changes other processes write
        down (pagegen.Known.follow): one changed paper's page shows the change within
        the bound, and an untouched paper's page is still answered from this process's
        memory, without asking for its generation again."""
        other = factories.paper("A paper nobody touches")
        mine, theirs = self.paper.get_absolute_url(), other.get_absolute_url()
        with override_settings(PAGE_CACHE_MIN_SECONDS=1), \
                time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
            self.get(mine), self.get(theirs)
            clock.shift(2)
            assert self.fast(mine)[1] and self.fast(theirs)[1]
            Paper.objects.filter(pk=self.paper.pk).update(title="Renamed by another process")
            with _as_another_process():
                pagegen._retire([pagegen.LISTINGS, pagegen.paper_scope(self.paper.public_id)])
            clock.shift(0.5)
            stale, fast = self.fast(mine)
            assert fast and "Renamed by another process" not in stale.content.decode()
            clock.shift(0.6)  # past PAGE_CACHE_MIN_SECONDS: the changes are read
            fresh, fast, asked = self.asked_for(mine)
            assert not fast and "Renamed by another process" in fresh.content.decode()
            assert pagegen.PAPER_CHANGES in asked
            clock.shift(0.5)  # the other paper's generation was read 2.1 s ago
            page, fast, asked = self.asked_for(theirs)
            assert fast and asked == [] and "A paper nobody touches" in page.content.decode()

    def test_a_change_that_cannot_be_read_makes_the_process_ask_for_each_paper(self):
        other = factories.paper("A paper nobody touches")
        theirs, their_scope = other.get_absolute_url(), pagegen.paper_scope(other.public_id)
        with override_settings(PAGE_CACHE_MIN_SECONDS=1), \
                time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False) as clock:
            self.get(theirs)
            clock.shift(2)
            assert self.fast(theirs)[1]
            with _as_another_process():
                pagegen._retire([pagegen.paper_scope(self.paper.public_id)])
            cache.delete(f"{pagegen._CHANGE}{cache.get(pagegen.PAPER_CHANGES)}")  # evicted
            clock.shift(1.1)
            page, fast, asked = self.asked_for(theirs)
            assert fast and their_scope in asked  # forgotten, asked again: still current
            # Kept current by the changes for at most KNOWN_PAPER_SECONDS, then asked.
            with mock.patch.object(pagegen, "KNOWN_PAPER_SECONDS", 5):
                for step in range(1, 6):  # 1.1 s apart: asked at 5.5 s, not before
                    clock.shift(1.1)
                    self.get(DAY)  # reads the site's generation and the changes
                    page, fast, asked = self.asked_for(theirs)
                    assert fast and (their_scope in asked) == (step == 5), step

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

    def test_a_page_of_text_beyond_ascii_for_a_voter(self):
        """Members' copies are made from the cached UTF-8 bytes (memberpages.splice)."""
        accented = factories.paper("Schrödinger's 猫: ∀ε>0 — an über-paper")
        self.client.force_login(self.member)
        self.client.post(reverse("community:vote", args=[accented.pk]), {"vote": "1"})
        for url in (DAY, accented.get_absolute_url()):
            self.assert_cached_page_is_the_full_render(url, self.member)
        html = self.client.get(accented.get_absolute_url()).content.decode()
        assert "Schrödinger" in html and "猫" in html and 'aria-pressed="true"' in html

    def test_account_links_are_rendered_once_per_member_and_follow_a_rename(self):
        fragments = {"partials/header_account.html", "partials/header_account_short.html",
                     "partials/nav_member.html"}
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.member)
        client.get(DAY)  # stored
        first = client.get(DAY)
        second = client.get(DAY)
        assert not fragments & {t.name for t in second.templates}
        assert _untokened(first) == _untokened(second) and _token(first) != _token(second)
        assert ">member</a>" in second.content.decode()
        # The memo is keyed by the username: a renamed member's links follow at once.
        type(self.member).objects.filter(pk=self.member.pk).update(username="renamed")
        renamed = client.get(DAY).content.decode()
        assert ">renamed</a>" in renamed and ">member</a>" not in renamed
        # The sign-out form's token, filled in per request, is this visitor's and works.
        page = client.get(DAY)
        form = re.search(r'action="/accounts/logout/".*?value="([^"]+)"', page.content.decode(), re.S)
        assert form, "no sign-out form"
        out = client.post(reverse("community:logout"), {"csrfmiddlewaretoken": form.group(1)})
        assert out.status_code == 302 and "_auth_user_id" not in client.session

    def test_a_members_paper_page_costs_a_few_queries_not_a_render(self):
        url = self.paper.get_absolute_url()
        self.client.force_login(self.member)
        self.client.get(url)
        # The session, the member, their votes, the curator check; for the discussion,
        # the paper and the comments.
        with self.assertNumQueries(6):
            response = self.client.get(url)
        assert "Add a comment" in response.content.decode()
        # With no discussion, nothing but the member, their votes and the curator check.
        quiet = factories.paper("A paper nobody discussed")
        self.client.get(quiet.get_absolute_url())
        with self.assertNumQueries(4):
            response = self.client.get(quiet.get_absolute_url())
        assert "Add a comment" in response.content.decode()

    def test_a_paper_with_no_discussion_for_each_member(self):
        """The paper-actions and discussion parts kept from the anonymous page (no
        curator, nothing shown in the discussion) are what a render shows the member:
        a voted and an unvoted paper, one a member submitted, one whose only comment a
        curator hid (the curator's copy shows it)."""
        from django.utils import timezone

        from paperfeed.community.models import Submission
        from paperfeed.papers.models import Source, SourceRecord

        submitted = factories.paper("A paper a member submitted")
        # What submissions.submit() leaves: the submission and its source record.
        Submission.objects.create(paper=submitted, user=self.owner, feed_date=submitted.feed_date)
        SourceRecord.objects.create(paper=submitted, source=Source.SUBMISSION, original_id="1",
                                    fetched_at=timezone.now(), content_hash="0")
        hidden_only = factories.paper("A paper whose one comment was hidden")
        with self.captureOnCommitCallbacks(execute=True):
            spam = comments.post_comment(self.owner, hidden_only, "Spam")
            moderation.moderate_comment(self.curator, spam, True, "spam")
        for paper in (self.other, submitted, hidden_only):
            for persona in (self.member, self.owner, self.curator):
                self.assert_cached_page_is_the_full_render(paper.get_absolute_url(), persona)
        self.client.force_login(self.member)
        html = self.client.get(self.other.get_absolute_url()).content.decode()
        assert 'aria-pressed="true"' in html and "Curate" not in html and "Add a comment" in html
        html = self.client.get(submitted.get_absolute_url()).content.decode()
        assert "Submitted by" in html and 'aria-pressed="false"' in html
        self.client.force_login(self.curator)
        html = self.client.get(hidden_only.get_absolute_url()).content.decode()
        assert "Curate" in html and "[hidden by a curator: spam]" in html


class GzipTests(CommunityTestCase):
    """The gzip-compressed copy of a cached page (pagecache.gzip_parts): the same page,
    this visitor's token in it, for the readers whose Accept-Encoding takes gzip."""

    GZIP = {"Accept-Encoding": "gzip, deflate, br"}

    def get(self, url=DAY, client=None, method="get", **headers):
        return getattr(client or self.client, method)(url, headers=headers)

    def test_a_gzip_reader_gets_the_page_compressed_with_their_own_token(self):
        identity = self.get()  # rendered and stored
        for path in ("decorator", "fast path"):
            served = fastpath.stats["served"]
            client = Client()
            if path == "decorator":  # a session cookie that is no session: down the stack
                client.cookies["sessionid"] = "made-up"
            compressed = self.get(client=client, **self.GZIP)
            assert (fastpath.stats["served"] == served + 1) == (path == "fast path")
            assert compressed["Content-Encoding"] == "gzip", path
            assert compressed["Vary"] == "Cookie, Accept-Encoding"
            assert compressed["Content-Length"] == str(len(compressed.content))
            page = _one_gzip_member(compressed.content)
            assert len(compressed.content) < len(page) / 2, path  # a 7 KB test page
            assert _untokened_bytes(page) == _untokened(identity).encode(), path
            token = _token_of(page.decode())
            assert _does_token_match(token, compressed.cookies["csrftoken"].value)
            assert compressed["ETag"] == identity["ETag"][:-1] + '-gz"'

    def test_its_token_lets_the_visitor_subscribe(self):
        client = Client(enforce_csrf_checks=True)
        self.get(client=client)
        page = gzip.decompress(self.get(client=client, **self.GZIP).content).decode()
        ok = client.post(reverse("digests:subscribe"), {"email": "reader@example.org",
                                                        "csrfmiddlewaretoken": _token_of(page)})
        assert ok.status_code == 302, ok.content[:300]

    def test_accept_encoding_is_parsed_not_searched(self):
        self.get()
        for value, wanted in (("gzip", True), ("GZip;q=0.5", True), ("deflate, gzip;q=1.0", True),
                              ("*", True), ("br, *;q=0.1", True), ("x-gzip", True),
                              ("gzip;q=0", False), ("gzip;q=0.000, *", False),
                              ("*;q=0", False), ("identity", False), ("br, deflate", False),
                              ("gzip;q=abc", False), ("gzip;q=2", False), ("", False)):
            response = self.get(**{"Accept-Encoding": value})
            assert (response.get("Content-Encoding") == "gzip") is wanted, value
            body = gzip.decompress(response.content) if wanted else response.content
            assert self.paper.title.encode() in body, value
        no_header = self.get()
        assert not no_header.has_header("Content-Encoding") and b"<html" in no_header.content

    def test_head_and_conditional_gets_for_both_copies(self):
        identity, compressed = self.get(), self.get(**self.GZIP)
        assert identity["ETag"] != compressed["ETag"]
        head = self.get(method="head", **self.GZIP)
        assert head.status_code == 200 and head.content == b"" and head["ETag"] == compressed["ETag"]
        assert head["Content-Length"] == compressed["Content-Length"]
        # Either tag matches, whichever copy the client asks for now: the page is the same.
        for tag in (identity["ETag"], compressed["ETag"], "W/" + compressed["ETag"]):
            for headers in ({}, self.GZIP):
                not_modified = self.get(If_None_Match=tag, **headers)
                assert not_modified.status_code == 304 and not_modified.content == b"", (tag, headers)
                assert not_modified["ETag"] == tag.removeprefix("W/")
                assert not not_modified.has_header("Content-Encoding")
        assert self.get(If_None_Match='"other"', **self.GZIP).status_code == 200
        with self.captureOnCommitCallbacks(execute=True):
            ingested_paper(title="Changes the page", feed_date=dt.date(2026, 11, 20))
        changed = self.get(If_None_Match=compressed["ETag"], **self.GZIP)
        assert changed.status_code == 200 and changed["ETag"] != compressed["ETag"]
        assert b"Changes the page" in gzip.decompress(changed.content)

    def test_members_get_their_page_uncompressed(self):
        self.get()
        self.as_member()
        page = self.get(**self.GZIP)
        assert not page.has_header("Content-Encoding") and ">member</a>" in page.content.decode()


def test_the_compressed_copy_decodes_to_the_page_whatever_the_tokens_and_text():
    """The stored deflate pieces with tokens spliced between them are one valid gzip
    stream (CRC and length checked by the decoder), even where the text around a
    placeholder repeats the token or another placeholder's neighbourhood."""
    import os
    import random

    from paperfeed.lib.csrftoken import random_chars

    mark = pagecache.CSRF_MARK.encode()
    rng = random.Random(14)
    texts = [b"", b"x", b'<input name="csrfmiddlewaretoken" value="', os.urandom(40).hex().encode(),
             b"A" * 70000, b"value=" * 500]
    for _ in range(60):
        pieces = [rng.choice(texts) + rng.choice(texts) for _ in range(rng.randint(1, 8))]
        body = mark.join(pieces)
        entry = _entry(body)
        token = random_chars(64)
        if rng.random() < 0.3:  # the token also stands in the text, next to a placeholder
            body = body.replace(b"x", token.encode())
            entry = _entry(body)
        parts = body.split(mark)
        page = _one_gzip_member(pagecache._gzip_body(entry, parts, token.encode()))
        assert page == token.encode().join(parts)
    assert pagecache.gzip_copy(b"a NUL \0 byte" + mark + b"rest") == ((), ())


def _entry(body: bytes) -> pagecache.Entry:
    parts, crc = pagecache.gzip_copy(body)
    return pagecache.Entry(body, "text/html", '"t"', 0.0, gzip_parts=parts, gzip_crc=crc)


def _one_gzip_member(stream: bytes) -> bytes:
    """The page in ``stream``, which must be one gzip member (Chromium reads no more)."""
    import zlib

    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    page = decoder.decompress(stream)
    assert decoder.eof and decoder.unused_data == b""
    assert gzip.decompress(stream) == page  # CRC-32 and length checked
    return page


@pytest.mark.django_db(transaction=True)
def test_gzip_over_real_http(live_server):
    """Through a real server and socket: the compressed page decodes to the page."""
    factories.paper("Attention is all you need, again")
    url = live_server.url + DAY

    def fetch(**headers):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
            return response.headers, response.read()

    fetch()  # stored
    plain_headers, plain = fetch()
    headers, body = fetch(**{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and int(headers["Content-Length"]) == len(body)
    assert "Content-Encoding" not in plain_headers
    assert _untokened_bytes(_one_gzip_member(body)) == _untokened_bytes(plain)
    refused, _ = fetch(**{"Accept-Encoding": "gzip;q=0, *"})
    assert "Content-Encoding" not in refused


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_reads_the_compressed_page_and_subscribes(page, live_server):
    """Chromium decodes the page's one gzip stream, and the token spliced into it works."""
    factories.paper("Attention is all you need, again")
    urllib.request.urlopen(live_server.url + DAY).close()  # stored
    with page.expect_response(live_server.url + DAY) as response:
        page.goto(live_server.url + DAY)
    assert response.value.headers.get("content-encoding") == "gzip"
    assert "Attention is all you need, again" in page.content()
    forms = page.locator('input[name="csrfmiddlewaretoken"]')
    token = forms.first.get_attribute("value")
    assert len(token) == 64 and page.content().count(token) == forms.count() >= 2
    with page.expect_navigation() as sent:
        page.locator("form.header-subscribe").evaluate(
            "form => { form.email.value = 'reader@example.org'; form.submit(); }")
    assert sent.value.status == 200 and sent.value.request.method == "GET"  # redirected


def _untokened_bytes(body: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"TOKEN", body)


def _token_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _untokened(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "TOKEN", response.content.decode())


def _token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                     response.content.decode()).group(1)


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
@override_settings(CACHES={"default": {
    "BACKEND": "paperfeed.rediscache.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379/13",
    "KEY_PREFIX": f"paperfeed-test-{uuid.uuid4().hex}", "TIMEOUT": 300}})
class RedisFastPathTests(FastPathTests):
    pass


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
@override_settings(CACHES={"default": {
    "BACKEND": "paperfeed.rediscache.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379/9",
    "KEY_PREFIX": f"paperfeed-test-{uuid.uuid4().hex}", "TIMEOUT": 300}})
class RedisGzipTests(GzipTests):
    pass


def test_following_the_changes_learns_them_or_forgets_every_paper():
    """pagegen.Known.follow: changes read in order; too many, a count that went back
    (evicted, started again) or a change written as "every paper" forget them all."""
    known = pagegen.Known()
    paper, other = pagegen.paper_scope("2611.00001"), pagegen.paper_scope("2611.00002")
    cache.set(pagegen.PAPER_CHANGES, 100)
    known.follow(100, 0.0)
    known.learn({paper: 1, other: 1, pagegen.LISTINGS: 7}, 0.0)
    cache.set_many({f"{pagegen._CHANGE}101": {paper: 2}, f"{pagegen._CHANGE}102": {paper: 3}})
    known.follow(102, 5.0)
    assert known.values[paper] == (3, 5.0) and known.values[other] == (1, 0.0)
    for count, record in ((102 + pagegen.CHANGES_READ_MAX + 1, None), (50, None),
                          (103, {f"{pagegen._CHANGE}103": None}),  # "every paper"
                          (103, {f"{pagegen._CHANGE}103": "not a change"}),  # not ours
                          ("103", None)):  # a count that is no number: none yet
        known.learn({paper: 4, other: 4}, 6.0)
        if record:
            cache.set_many(record)
        known.follow(count, 7.0)
        assert paper not in known.values and other not in known.values, count
        followed = count if isinstance(count, int) else 0
        assert known.values[pagegen.LISTINGS] == (7, 0.0) and known.changes == (followed, 7.0)
        known.follow(102, 8.0)  # back to a count the next case starts from


def test_the_local_copy_keeps_at_most_its_megabytes(settings):
    local = pagecache._Local()

    def entry(size: int) -> pagecache.Entry:
        return pagecache.Entry(b"x" * size, "text/html", '"e"', 0.0)

    settings.PAGE_CACHE_LOCAL_MB = 1
    for n in range(10):
        local.put(f"k{n}", entry(300_000))  # ~300 KB held each
    assert list(local.entries) == ["k7", "k8", "k9"] and local.size <= 1_000_000
    local.get("k7")  # the most recently used stays
    local.put("k10", entry(300_000))
    assert list(local.entries) == ["k9", "k7", "k10"]
    local.put("k9", entry(100_000))  # replaced, counted once
    assert local.size == sum(pagecache._footprint(e) for e, _ in local.entries.values())
    served = local.put("huge", entry(2_000_000))  # answered, not kept
    assert served[0].body and "huge" not in local.entries
    settings.PAGE_CACHE_LOCAL_MB = 0
    local.put("k11", entry(10))
    assert not local.entries and local.size == 0
