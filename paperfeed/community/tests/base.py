"""Personas shared by the community tests: an owner, a member, an outsider and a curator."""

from __future__ import annotations

from django.test import TestCase

from paperfeed.community.tests import factories


class CommunityTestCase(TestCase):
    """``owner`` owns what a test is about; ``member`` is another signed-in member;
    ``outsider`` is an anonymous visitor (a client that never signs in); ``curator``
    moderates. ``paper`` is a visible paper in the feed of 2026-11-20."""

    @classmethod
    def setUpTestData(cls):
        cls.owner = factories.member("owner")
        cls.member = factories.member("member")
        cls.curator = factories.member("curator", curator=True)
        cls.paper = factories.paper("Attention is all you need, again", upvotes_imported=10)

    def as_owner(self):
        self.client.force_login(self.owner)
        return self.client

    def as_member(self):
        self.client.force_login(self.member)
        return self.client

    def as_curator(self):
        self.client.force_login(self.curator)
        return self.client

    def as_outsider(self):
        self.client.logout()
        self.client.cookies.clear()  # a first-time visitor has no session cookie either
        return self.client

    def refresh(self, obj):
        obj.refresh_from_db()
        return obj
