from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from paperfeed.community import accounts
from paperfeed.community.models import Comment, Submission, Vote
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase

User = get_user_model()
SIGNUP = {"username": "ada", "email": "ada@example.org", "password1": factories.PASSWORD,
          "password2": factories.PASSWORD}


def _text_part(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def _path(text: str) -> str:
    url = re.search(r"https?://\S+", text)[0]
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.mark.django_db
def test_a_visitor_signs_up_and_confirms_through_a_real_smtp_server(client, smtp_server):
    response = client.post(reverse("community:signup"), SIGNUP)
    assert response.status_code == 302  # redirect after POST: a reload posts nothing again
    response = client.get(response["Location"])
    assert b"We sent a confirmation link to ada@example.org" in response.content
    [message] = smtp_server
    assert message["To"] == "ada@example.org"
    assert "Confirm your address" in message["Subject"]
    assert message.is_multipart()  # text and HTML
    user = User.objects.get(username="ada")
    assert not accounts.is_verified(user)
    assert user.password.startswith("md5$") or user.check_password(factories.PASSWORD)

    link = _path(_text_part(message))
    assert client.get(link).status_code == 200  # shows a button; GET changes nothing
    assert not accounts.is_verified(User.objects.get(pk=user.pk))
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == link
    assert b"your address is confirmed" in client.get(link).content
    assert accounts.is_verified(User.objects.get(pk=user.pk))


@pytest.mark.django_db
def test_a_verification_link_expires(client):
    user = factories.member(verified=False)
    with time_machine.travel("2026-11-01 12:00Z"):
        token = accounts.verification_token(user)
    with time_machine.travel("2026-11-05 12:00Z"):
        response = client.post(reverse("community:verify", args=[token]))
    assert response.status_code == 400 and b"expired" in response.content
    assert not accounts.is_verified(User.objects.get(pk=user.pk))


@pytest.mark.django_db
def test_a_tampered_or_stale_link_is_refused(client):
    user = factories.member(verified=False)
    token = accounts.verification_token(user)
    assert client.post(reverse("community:verify", args=[token[:-2] + "xx"])).status_code == 400
    user.email = "new@example.org"
    user.save()
    response = client.post(reverse("community:verify", args=[token]))
    assert response.status_code == 400 and b"no longer exists" in response.content


@pytest.mark.django_db
def test_an_address_or_name_can_only_be_used_once(client):
    factories.member("ada", email="Ada@Example.org")
    response = client.post(reverse("community:signup"), {**SIGNUP, "username": "ADA"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "That user name is taken." in form.errors["username"]
    assert "already uses this address" in form.errors["email"][0]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_weak_passwords_are_refused_by_djangos_validators(client):
    response = client.post(reverse("community:signup"),
                           {**SIGNUP, "password1": "12345678", "password2": "12345678"})
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.django_db
def test_members_sign_in_with_their_address_or_name_and_sign_out_with_a_post(client):
    factories.member("grace", email="grace@example.org")
    for login in ("GRACE@example.org", "grace"):
        response = client.post(reverse("community:login"),
                               {"username": login, "password": factories.PASSWORD})
        assert response.status_code == 302, login
        assert client.get(reverse("papers:all")).context["user"].username == "grace"
        assert client.get(reverse("community:logout")).status_code == 405
        client.post(reverse("community:logout"))
        assert not client.get(reverse("papers:all")).context["user"].is_authenticated


@pytest.mark.django_db
def test_a_wrong_password_does_not_sign_in(client):
    factories.member("grace")
    response = client.post(reverse("community:login"), {"username": "grace", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in str(response.context["form"].errors)


@pytest.mark.django_db
def test_a_member_resets_a_forgotten_password_by_mail(client):
    factories.member("grace", email="grace@example.org")
    client.post(reverse("community:password_reset"), {"email": "grace@example.org"})
    [message] = mail.outbox
    link = _path(message.body)
    form_page = client.get(link, follow=True)
    response = client.post(form_page.redirect_chain[-1][0], {
        "new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"})
    assert response.status_code == 302
    assert User.objects.get(username="grace").check_password("a brand new passphrase")


@pytest.mark.django_db
def test_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("community:password_reset"), {"email": "nobody@example.org"},
                           follow=True)
    assert b"If an account uses that address" in response.content
    assert mail.outbox == []


class AccountDeletionTests(CommunityTestCase):
    def test_deleting_an_account_removes_votes_and_blanks_comments(self):
        from paperfeed.community import comments
        from paperfeed.community.votes import set_vote

        set_vote(self.owner, self.paper, True)
        set_vote(self.member, self.paper, True)
        mine = comments.post_comment(self.owner, self.paper, "My *view*")
        reply = comments.post_comment(self.member, self.paper, "A reply", parent=mine)
        Submission.objects.create(paper=self.paper, user=self.owner, feed_date=self.paper.feed_date)
        self.as_owner()
        response = self.client.post(reverse("community:profile_delete", args=["owner"]),
                                    {"password": factories.PASSWORD})
        assert response.status_code == 302
        assert not User.objects.filter(username="owner").exists()
        paper = self.refresh(self.paper)
        assert (paper.upvotes_local, Vote.objects.count()) == (1, 1)
        assert paper.comments_local == 1
        mine.refresh_from_db()
        assert (mine.author, mine.body, mine.deleted) == (None, "", True)
        assert Comment.objects.get(pk=reply.pk).parent_id == mine.pk
        assert Submission.objects.get(paper=self.paper).user is None
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        assert "[deleted]" in html and "A reply" in html and "My <em>view</em>" not in html

    def test_deleting_needs_the_password(self):
        self.as_owner()
        response = self.client.post(reverse("community:profile_delete", args=["owner"]),
                                    {"password": "wrong"})
        assert "That is not your password." in str(response.context["form"].errors)
        assert User.objects.filter(username="owner").exists()


class UnverifiedMemberTests(CommunityTestCase):
    def test_an_unverified_member_asks_for_a_new_link_and_cannot_comment_meanwhile(self):
        newcomer = factories.member("newcomer", verified=False)
        self.client.force_login(newcomer)
        profile = self.client.get(reverse("community:profile", args=["newcomer"]))
        assert b"is not confirmed yet" in profile.content
        response = self.client.post(reverse("community:comment_new", args=[self.paper.pk]),
                                    {"body": "first!"})
        assert response.status_code == 403 and b"confirm your e-mail address" in response.content
        assert not Comment.objects.exists()
        self.client.post(reverse("community:verify_resend"))
        [message] = mail.outbox
        assert message.to == ["newcomer@example.org"]
        self.client.post(_path(message.body))
        response = self.client.post(reverse("community:comment_new", args=[self.paper.pk]),
                                    {"body": "first!"})
        assert response.status_code == 302 and Comment.objects.count() == 1


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1]


@pytest.mark.django_db
def test_auth_pages_and_the_reset_mail_name_the_site_not_the_host(client, settings):
    settings.SITE_NAME, settings.SITE_URL = "Frontier Papers", "https://papers.example.org"
    factories.member("grace", email="grace@example.org")
    pages = [client.get(reverse(name)) for name in (
        "community:login", "community:password_reset", "community:password_reset_done",
        "community:password_reset_complete")]
    client.post(reverse("community:password_reset"), {"email": "grace@example.org"})
    [message] = mail.outbox
    assert message.subject == "Reset your Frontier Papers password"
    for part in (message.body, message.alternatives[0][0]):
        assert "testserver" not in part and "Frontier Papers account" in part
        assert "https://papers.example.org/accounts/password/reset/" in part
    form_page = client.get(_path(message.body), follow=True)
    pages.append(form_page)
    client.force_login(User.objects.get(username="grace"))
    pages.append(client.get(reverse("community:password_change")))
    for page in pages:
        assert page.status_code == 200
        assert _title(page).endswith("· Frontier Papers"), _title(page)
        assert "testserver" not in _title(page)


@pytest.mark.django_db
def test_account_forms_redirect_after_a_successful_post(client):
    """Post/Redirect/Get: the page after a form is a GET, so a reload sends nothing again."""
    response = client.post(reverse("community:signup"), SIGNUP)
    assert (response.status_code, response["Location"]) == (302, reverse("community:verify_sent"))
    response = client.post(reverse("community:verify_resend"))
    assert (response.status_code, response["Location"]) == (302, reverse("community:verify_sent"))
    assert len(mail.outbox) == 2
    for _ in range(2):  # the reloads
        page = client.get(reverse("community:verify_sent"))
        assert page.status_code == 200 and b"ada@example.org" in page.content
    assert len(mail.outbox) == 2 and User.objects.count() == 1

    delete = reverse("community:profile_delete", args=["ada"])
    response = client.post(delete, {"password": factories.PASSWORD})
    assert (response.status_code, response["Location"]) == (302, reverse("community:account_deleted"))
    assert b"Your account, votes" in client.get(response["Location"]).content
    assert not User.objects.exists()
    # Signed out now: the "check your inbox" page has nothing to say.
    assert client.get(reverse("community:verify_sent"))["Location"] == reverse("community:signup")
