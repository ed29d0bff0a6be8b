from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.urls import reverse

from paperfeed.community.models import Vote
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase
from paperfeed.papers.models import Paper

JSON = {"HTTP_ACCEPT": "application/json"}


class VotingTests(CommunityTestCase):
    def vote(self, paper, wish: str, **extra):
        return self.client.post(reverse("community:vote", args=[paper.pk]), {"vote": wish}, **extra)

    def test_an_upvote_counts_on_top_of_imported_upvotes(self):
        self.as_member()
        response = self.vote(self.paper, "1", **JSON)
        assert response.status_code == 200
        assert response.json() == {"voted": True, "upvotes": 11}
        assert self.refresh(self.paper).upvotes_local == 1
        assert Vote.objects.filter(user=self.member, paper=self.paper).count() == 1

    def test_voting_twice_is_still_one_vote(self):
        self.as_member()
        self.vote(self.paper, "1", **JSON)
        response = self.vote(self.paper, "1", **JSON)
        assert response.json() == {"voted": True, "upvotes": 11}
        assert self.refresh(self.paper).upvotes_local == 1

    def test_taking_a_vote_back_lowers_the_count_once(self):
        self.as_member()
        self.vote(self.paper, "1", **JSON)
        assert self.vote(self.paper, "0", **JSON).json() == {"voted": False, "upvotes": 10}
        assert self.vote(self.paper, "0", **JSON).json() == {"voted": False, "upvotes": 10}
        assert self.refresh(self.paper).upvotes_local == 0
        assert not Vote.objects.exists()

    def test_the_plain_form_redirects_back_without_javascript(self):
        self.as_member()
        response = self.client.post(reverse("community:vote", args=[self.paper.pk]),
                                    {"vote": "1", "next": "/papers/trending"})
        assert response.status_code == 302 and response["Location"] == "/papers/trending"
        assert self.refresh(self.paper).upvotes_local == 1

    def test_it_never_redirects_to_another_site(self):
        self.as_member()
        response = self.client.post(reverse("community:vote", args=[self.paper.pk]),
                                    {"vote": "1", "next": "https://evil.example/"})
        assert response["Location"] == self.paper.get_absolute_url()

    def test_anonymous_visitors_are_sent_to_sign_in(self):
        self.as_outsider()
        response = self.vote(self.paper, "1")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("community:login"))
        assert self.vote(self.paper, "1", **JSON).status_code == 401
        assert not Vote.objects.exists()

    def test_unverified_members_cannot_vote_yet(self):
        self.client.force_login(factories.member(verified=False))
        response = self.vote(self.paper, "1", **JSON)
        assert response.status_code == 403
        assert "confirm your e-mail" in response.json()["error"]
        assert self.refresh(self.paper).upvotes_local == 0

    def test_a_vote_that_is_neither_up_nor_down_is_refused(self):
        self.as_member()
        response = self.vote(self.paper, "5")
        assert response.status_code == 400
        assert b"A vote is 1" in response.content

    def test_hidden_papers_cannot_be_voted_on(self):
        Paper.objects.filter(pk=self.paper.pk).update(status=Paper.Status.HIDDEN)
        self.as_member()
        assert self.vote(self.paper, "1").status_code == 404

    def test_the_daily_page_ranks_by_imported_plus_local_votes(self):
        rival = factories.paper("A rival paper", upvotes_imported=11)
        voters = [factories.member() for _ in range(2)]
        for voter in voters:
            self.client.force_login(voter)
            self.vote(self.paper, "1")
        response = self.client.get(reverse("papers:day", args=["2026-11-20"]))
        titles = [p.title for p in response.context["papers"]]
        assert titles == [self.paper.title, rival.title]
        assert [p.upvotes for p in response.context["papers"]] == [12, 11]

    def test_the_paper_page_shows_the_total_and_the_members_vote(self):
        self.as_member()
        self.vote(self.paper, "1")
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert '<span class="count">11</span>' in html
        assert 'aria-pressed="true"' in html


@override_settings(PAPERFEED={"PAGE_SIZE": 50, "TRENDING_DAYS": 14, "TRENDING_GRAVITY": 1.5})
class ListingQueryTests(CommunityTestCase):
    """A listing knows which rows the member upvoted with one extra query, whatever its size."""

    def day_queries(self, count: int, papers: int) -> str:
        for _ in range(papers - 1):
            factories.paper(feed_date=dt.date(2026, 11, 20))
        with self.assertNumQueries(count):
            response = self.client.get(reverse("papers:day", args=["2026-11-20"]))
        return response.content.decode()

    def test_an_anonymous_listing_costs_no_extra_query(self):
        # 5 for the page (4 + one for its thumbnails), none for votes.
        self.as_outsider()
        self.day_queries(6, papers=3)

    def test_an_anonymous_listing_of_more_papers_costs_the_same(self):
        self.as_outsider()
        self.day_queries(6, papers=12)

    def test_a_members_listing_costs_one_query_for_the_votes(self):
        # +2 for the session and the user, +1 for the member's votes on this page.
        self.as_member()
        Vote.objects.create(user=self.member, paper=self.paper)
        html = self.day_queries(9, papers=3)
        assert html.count('aria-pressed="true"') == 1
        assert html.count('aria-pressed="false"') == 2

    def test_a_members_listing_of_more_papers_costs_the_same(self):
        self.as_member()
        self.day_queries(9, papers=12)

    def test_trending_knows_the_members_votes_with_one_query(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(5):
            factories.paper(feed_date=dt.date(2026, 11, 20), upvotes_imported=3)
        self.as_member()
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("papers:trending"))
        assert len(response.context["papers"]) == 6
        vote_queries = [q for q in queries.captured_queries if "community_vote" in q["sql"]]
        assert len(vote_queries) == 1


class PaperPageQueryTests(CommunityTestCase):
    def test_a_members_paper_page_with_a_discussion_costs_a_fixed_number_of_queries(self):
        from paperfeed.community import comments

        for n in range(5):
            comments.post_comment(self.owner if n % 2 else self.member, self.paper, f"c{n}")
        self.as_member()
        # Rendered for the cache as an anonymous reader would see it: 4 for the paper, +1
        # the thumbnail, +1 the thread. Then the member's parts (community/pagestate.py):
        # +2 session and user, +1 the member's votes, +1 the curator check (one query for
        # user and group permissions), +1 the paper, +1 the thread with its authors.
        with self.assertNumQueries(12):
            self.client.get(self.paper.get_absolute_url())
        # From the cache: only the member's parts.
        with self.assertNumQueries(6):
            self.client.get(self.paper.get_absolute_url())

    def test_a_profile_costs_the_same_whatever_the_number_of_papers(self):
        from paperfeed.community.votes import set_vote

        self.as_member()
        for papers in (2, 8):
            Vote.objects.all().delete()
            for _ in range(papers):
                set_vote(self.owner, factories.paper(), True)
            # session, user, the profile's owner, upvoted (+ categories), submitted (nothing
            # to prefetch), the curator check (1), the member's votes on the rows, their
            # thumbnails.
            with self.assertNumQueries(9):
                self.client.get(reverse("community:profile", args=["owner"]))
