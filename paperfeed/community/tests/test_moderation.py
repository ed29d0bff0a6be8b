from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from paperfeed.community.models import ModerationAction
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase
from paperfeed.papers.models import Paper

Kind = ModerationAction.Kind


class PaperModerationTests(CommunityTestCase):
    def act(self, kind: str, reason: str = "because", paper: Paper | None = None):
        paper = paper or self.paper
        return self.client.post(reverse("community:paper_moderate", args=[paper.pk]),
                                {"kind": kind, "reason": reason})

    def test_a_curator_features_a_paper_and_it_is_logged(self):
        self.as_curator()
        assert self.act(Kind.FEATURE, "excellent").status_code == 302
        assert self.refresh(self.paper).featured
        action = ModerationAction.objects.get()
        assert (action.actor_name, action.kind, action.paper, action.reason) == (
            "curator", Kind.FEATURE, self.paper, "excellent")

    def test_hiding_takes_the_paper_off_every_page_until_restored(self):
        self.as_curator()
        self.act(Kind.HIDE_PAPER, "not a research paper")
        assert self.refresh(self.paper).status == Paper.Status.HIDDEN
        assert self.client.get(self.paper.get_absolute_url()).status_code == 404
        day = self.client.get(reverse("papers:day", args=["2026-11-20"]))
        assert self.paper not in day.context["papers"]
        dashboard = self.client.get(reverse("community:moderation")).content.decode()
        assert "Attention is all you need, again" in dashboard
        assert "not a research paper" in dashboard
        self.act(Kind.RESTORE_PAPER, "mistake")
        assert self.client.get(self.paper.get_absolute_url()).status_code == 200
        assert list(ModerationAction.objects.values_list("kind", flat=True)) == [
            Kind.RESTORE_PAPER, Kind.HIDE_PAPER]

    def test_withdrawing_marks_the_paper_withdrawn(self):
        self.as_curator()
        self.act(Kind.WITHDRAW_PAPER, "authors withdrew it on arXiv")
        assert self.refresh(self.paper).status == Paper.Status.WITHDRAWN

    def test_every_action_needs_a_reason_and_a_known_kind(self):
        self.as_curator()
        assert self.act(Kind.FEATURE, "").status_code == 400
        assert self.act("delete-everything").status_code == 400
        assert self.act(Kind.RESTORE_PAPER).status_code == 400  # already visible
        assert not ModerationAction.objects.exists()
        assert not self.refresh(self.paper).featured

    def test_members_and_visitors_cannot_moderate(self):
        self.as_member()
        assert self.act(Kind.HIDE_PAPER).status_code == 403
        assert self.client.get(reverse("community:moderation")).status_code == 403
        self.as_outsider()
        assert self.act(Kind.HIDE_PAPER).status_code == 302  # to sign in
        assert self.refresh(self.paper).status == Paper.Status.VISIBLE
        assert not ModerationAction.objects.exists()

    def test_the_curator_panel_shows_only_to_curators(self):
        self.as_member()
        assert b"curator-panel" not in self.client.get(self.paper.get_absolute_url()).content
        self.as_curator()
        assert b"curator-panel" in self.client.get(self.paper.get_absolute_url()).content


class BlockingTests(CommunityTestCase):
    def block(self, username: str, block: str = "1", reason: str = "spamming"):
        return self.client.post(reverse("community:block", args=[username]),
                                {"block": block, "reason": reason})

    def test_a_blocked_member_is_signed_out_and_cannot_sign_in(self):
        from django.test import Client

        victim_client = Client()
        victim_client.force_login(self.member)
        self.as_curator()
        assert self.block("member").status_code == 302
        assert not get_user_model().objects.get(username="member").is_active
        # The existing session stops working at once.
        page = victim_client.get(reverse("papers:all"))
        assert not page.context["user"].is_authenticated
        response = victim_client.post(reverse("community:login"),
                                      {"username": "member", "password": factories.PASSWORD})
        assert response.status_code == 200  # the form again, not a redirect
        action = ModerationAction.objects.get()
        assert (action.kind, action.subject_user, action.reason) == (
            Kind.BLOCK_USER, self.member, "spamming")
        assert b"blocked" in self.client.get(reverse("community:profile", args=["member"])).content

    def test_unblocking_is_logged_too(self):
        self.as_curator()
        self.block("member")
        self.block("member", "0", "appeal accepted")
        assert get_user_model().objects.get(username="member").is_active
        assert ModerationAction.objects.first().kind == Kind.UNBLOCK_USER

    def test_curators_cannot_block_staff_or_themselves(self):
        factories.member("admin", is_staff=True)
        self.as_curator()
        assert self.block("admin").status_code == 400
        assert self.block("curator").status_code == 400
        assert not ModerationAction.objects.exists()

    def test_members_cannot_block(self):
        self.as_owner()
        assert self.block("member").status_code == 403
        assert get_user_model().objects.get(username="member").is_active


class AdminTests(CommunityTestCase):
    def test_staff_see_the_community_models_and_cannot_edit_the_log(self):
        admin = factories.member("root", is_staff=True, is_superuser=True)
        ModerationAction.objects.create(actor=self.curator, actor_name="curator",
                                        kind=Kind.FEATURE, target="x", reason="y")
        self.client.force_login(admin)
        for name in ("comment", "vote", "submission", "profile", "moderationaction"):
            response = self.client.get(reverse(f"admin:community_{name}_changelist"))
            assert response.status_code == 200, name
        pk = ModerationAction.objects.get().pk
        url = reverse("admin:community_moderationaction_delete", args=[pk])
        assert self.client.post(url, {"post": "yes"}).status_code == 403
        assert ModerationAction.objects.exists()

    def test_the_admin_spam_action_goes_through_the_moderation_log(self):
        from paperfeed.community import comments

        comment = comments.post_comment(self.owner, self.paper, "spam")
        admin = factories.member("root", is_staff=True, is_superuser=True)
        self.client.force_login(admin)
        self.client.post(reverse("admin:community_comment_changelist"),
                         {"action": "hide_as_spam", "_selected_action": [comment.pk]})
        comment.refresh_from_db()
        assert comment.hidden
        assert ModerationAction.objects.get().actor == admin


class CuratorCheckTests(CommunityTestCase):
    """``is_curator``'s one query agrees with Django's ``has_perm`` (two)."""

    def test_it_agrees_with_has_perm_for_every_kind_of_member(self):
        from django.contrib.auth.models import Permission

        from paperfeed.community import moderation

        direct = factories.member("direct")
        app_label, codename = moderation.MODERATE.split(".")
        direct.user_permissions.add(Permission.objects.get(
            content_type__app_label=app_label, codename=codename))
        boss = factories.member("boss", is_superuser=True)
        users = get_user_model().objects
        for user, expected, queries in ((self.member, False, 1), (self.curator, True, 1),
                                        (direct, True, 1), (boss, True, 0)):
            ours, django_s = users.get(pk=user.pk), users.get(pk=user.pk)
            with self.assertNumQueries(queries):
                assert moderation.is_curator(ours) is expected, user
            with self.assertNumQueries(0):  # once per request's user
                assert moderation.is_curator(ours) is expected, user
            assert django_s.has_perm(moderation.MODERATE) is expected, user
            ours, django_s = users.get(pk=user.pk), users.get(pk=user.pk)
            ours.is_active = django_s.is_active = False  # deactivated: nothing, like Django
            assert moderation.is_curator(ours) is django_s.has_perm(moderation.MODERATE) is False

    def test_another_permission_backend_is_asked(self):
        from django.conf import settings

        from paperfeed.community import moderation

        assert list(settings.AUTHENTICATION_BACKENDS) == [moderation.BACKEND]
        others = [moderation.BACKEND, "django.contrib.auth.backends.ModelBackend"]
        curator = get_user_model().objects.get(pk=self.curator.pk)
        with self.settings(AUTHENTICATION_BACKENDS=others), self.assertNumQueries(2):
            # Django's has_perm: user and group permissions, whatever else may grant them
            assert moderation.is_curator(curator)
