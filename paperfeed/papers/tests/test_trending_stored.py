"""The stored trending ranking (papers/trending.py) equals the formula computed directly."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
import time_machine
from django.test import override_settings

from paperfeed.papers import trending
from paperfeed.papers.models import Paper, TrendingRank
from paperfeed.papers.ranking import trending as ranked_directly
from paperfeed.papers.tests.factories import paper

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def corpus():
    rng = random.Random(14)
    for n in range(120):
        day = NOW.date() - dt.timedelta(days=rng.randrange(0, 20))
        paper(arxiv_id=f"2611.{n:05d}", title=f"Paper {n}", feed_date=day,
              published_on=day, upvotes=rng.choice([0, 1, 2, 3, 5, 8, 13, 40, 100]))


def _stored_order() -> list[int]:
    return list(trending.ranked(Paper.objects.for_listing()).values_list("pk", flat=True))


def _direct_order(now) -> list[int]:
    return [p.pk for p in ranked_directly(Paper.objects.all(), now)[0]]


def test_the_stored_ranking_is_the_formula_at_the_reference_time(corpus):
    with time_machine.travel(NOW, tick=False):
        snap = trending.refresh()
    assert snap.reference == NOW and not snap.stale
    assert _stored_order() == _direct_order(NOW)
    assert 0 < TrendingRank.objects.count() < Paper.objects.count()  # only the 14-day window


def test_votes_and_hides_rescore_at_once_and_a_refresh_moves_time_on(corpus):
    with time_machine.travel(NOW, tick=False):
        trending.refresh()
    last = Paper.objects.get(pk=_stored_order()[-1])
    Paper.objects.filter(pk=last.pk).update(upvotes_local=1_000_000)
    trending.rescore([last.pk])
    assert _stored_order()[0] == last.pk
    assert _stored_order() == _direct_order(NOW)
    Paper.objects.filter(pk=last.pk).update(status=Paper.Status.HIDDEN)
    trending.rescore([last.pk])
    assert last.pk not in _stored_order() and _stored_order() == _direct_order(NOW)
    later = NOW + dt.timedelta(days=3, hours=5)
    with time_machine.travel(later, tick=False):
        assert not trending.refresh_if_due(max_age=4 * 86400)
        assert trending.refresh_if_due(max_age=300)
    assert _stored_order() == _direct_order(later) != _direct_order(NOW)


def test_a_changed_gravity_setting_forces_a_refresh(corpus):
    with time_machine.travel(NOW, tick=False):
        trending.refresh()
        with override_settings(PAPERFEED={**__import__("django.conf").conf.settings.PAPERFEED,
                                           "TRENDING_GRAVITY": 0.5}):
            assert trending.refresh_if_due(max_age=3600)
            assert _stored_order() == _direct_order(NOW)


def test_a_vote_through_the_site_rescoring_after_commit(corpus, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    from paperfeed.community.votes import set_vote

    with time_machine.travel(NOW, tick=False):
        trending.refresh()
    bottom = _stored_order()[-1]
    score = TrendingRank.objects.get(paper_id=bottom).score
    user = get_user_model().objects.create_user("voter", "v@example.org", "pw-123456789")
    with django_capture_on_commit_callbacks(execute=True):
        set_vote(user, Paper.objects.get(pk=bottom), True)
    assert TrendingRank.objects.get(paper_id=bottom).score > score
    assert _stored_order() == _direct_order(NOW)


def test_a_refresher_that_waited_for_the_lock_does_not_repeat_the_work(corpus):
    with time_machine.travel(NOW, tick=False):
        first = trending.refresh()
    with time_machine.travel(NOW + dt.timedelta(seconds=60), tick=False):
        # Another process refreshed it while this one waited for the snapshot's lock.
        assert trending.refresh(unless_younger=600).computed_at == first.computed_at
    with time_machine.travel(NOW + dt.timedelta(seconds=700), tick=False):
        assert trending.refresh(unless_younger=600).computed_at > first.computed_at


@pytest.mark.django_db(transaction=True)
def test_a_reader_never_waits_for_an_overdue_refresh(corpus, monkeypatch):
    monkeypatch.setattr(trending, "in_background", trending._thread)  # the real thread
    with time_machine.travel(NOW - dt.timedelta(hours=2), tick=False):
        old = trending.refresh()
    started, go_on, calls = threading.Event(), threading.Event(), []
    real_refresh = trending.refresh

    def slow_refresh(*args, **kwargs):
        calls.append(threading.current_thread().name)
        started.set()
        assert go_on.wait(30)
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(trending, "refresh", slow_refresh)
    assert trending.for_reader().computed_at == old.computed_at  # the stored one, at once
    assert started.wait(10)
    assert trending.for_reader().computed_at == old.computed_at  # no second refresh
    go_on.set()
    for thread in threading.enumerate():
        if thread.name == "trending-refresh":
            thread.join(30)
    assert calls == ["trending-refresh"]
    assert trending.snapshot().computed_at > old.computed_at
    assert TrendingRank.objects.exists()


def test_a_failed_background_refresh_is_logged_and_tried_again(corpus, monkeypatch, caplog):
    with time_machine.travel(NOW - dt.timedelta(hours=2), tick=False):
        old = trending.refresh()

    def broken(*args, **kwargs):
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(trending, "refresh", broken)
    for _ in range(2):  # the next reader tries again: the failure freed the lock
        caplog.clear()
        assert trending.for_reader().pk == old.pk
        assert "background refresh failed" in caplog.text and "deadlock detected" in caplog.text


def test_a_site_with_no_ranking_yet_computes_it_for_its_first_reader(corpus):
    with time_machine.travel(NOW, tick=False):
        assert trending.snapshot() is None
        snap = trending.for_reader()
    assert snap is not None and snap.reference == NOW
    assert _stored_order() == _direct_order(NOW)


def test_the_trending_page_counts_its_pages_from_the_stored_rows(corpus, client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    with time_machine.travel(NOW, tick=False):
        trending.refresh()
        shown = client.get("/papers/trending").context["paginator"]
        assert shown.count == trending.ranked(Paper.objects.for_listing()).count() > 50
        assert shown.num_pages == 2
        top = _stored_order()[0]
        Paper.objects.filter(pk=top).update(status=Paper.Status.HIDDEN)
        trending.rescore([top])  # as a curator's hide announces it
        after = client.get("/papers/trending").context["paginator"]
        assert after.count == shown.count - 1 == trending.ranked(Paper.objects.for_listing()).count()
