"""The security promises of docs/community.md, one test (or a few) each."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.contrib.auth import authenticate, get_user_model
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from paperfeed.community import comments
from paperfeed.community.models import Comment, ModerationAction, Throttle, Vote
from paperfeed.community.tests import factories
from paperfeed.community.tests.base import CommunityTestCase
from paperfeed.lib.rates import parse_rate
from paperfeed.papers.models import Paper

REPO = Path(__file__).resolve().parents[3]


def _state():
    """Everything a state-changing request could change."""
    return (
        list(Vote.objects.order_by("pk").values_list("pk", flat=True)),
        list(Comment.objects.order_by("pk").values_list("pk", "body", "hidden", "deleted")),
        ModerationAction.objects.count(),
        list(get_user_model().objects.order_by("pk").values_list("pk", "is_active", "password")),
        list(Paper.objects.order_by("pk").values_list("pk", "status", "featured",
                                                      "upvotes_local", "comments_local")),
    )


class StateChangeTests(CommunityTestCase):
    def setUp(self):
        self.comment = comments.post_comment(self.owner, self.paper, "hello")
        self.paper_id, self.comment_id = self.paper.pk, self.comment.pk

    def post_only_urls(self) -> list[str]:
        return [
            reverse("community:vote", args=[self.paper_id]),
            reverse("community:comment_new", args=[self.paper_id]),
            reverse("community:comment_delete", args=[self.comment_id]),
            reverse("community:comment_moderate", args=[self.comment_id]),
            reverse("community:paper_moderate", args=[self.paper_id]),
            reverse("community:block", args=["member"]),
            reverse("community:verify_resend"),
            reverse("community:logout"),
        ]

    def test_no_state_changes_on_get(self):
        before = _state()
        for login in (self.owner, self.curator):
            self.client.force_login(login)
            for url in self.post_only_urls():
                response = self.client.get(url + "?vote=1&hide=1&reason=x&kind=hide-paper&block=1")
                assert response.status_code == 405, url
            # Pages that show a form on GET must only show it.
            for url in (reverse("community:comment_edit", args=[self.comment_id]),
                        reverse("community:profile_delete", args=[login.username]),
                        reverse("community:profile_edit", args=[login.username])):
                assert self.client.get(url + "?body=changed&password=x&bio=y").status_code in {200, 403}
        assert _state() == before

    def test_every_post_needs_a_csrf_token(self):
        before = _state()
        strict = Client(enforce_csrf_checks=True)
        data = {"vote": "1", "body": "x", "hide": "1", "reason": "x", "kind": "hide-paper",
                "block": "1", "password": factories.PASSWORD}
        for login in (self.owner, self.curator):
            strict.force_login(login)
            urls = [*self.post_only_urls(),
                    reverse("community:comment_edit", args=[self.comment_id]),
                    reverse("community:profile_edit", args=[login.username]),
                    reverse("community:profile_delete", args=[login.username]),
                    reverse("community:submit"), reverse("community:password_change")]
            for url in urls:
                assert strict.post(url, data).status_code == 403, url
        anonymous = Client(enforce_csrf_checks=True)
        for url in (reverse("community:signup"), reverse("community:login"),
                    reverse("community:password_reset")):
            assert anonymous.post(url, {"username": "x", "email": "x@example.org"}).status_code == 403
        assert _state() == before

    def test_every_form_on_every_page_carries_a_csrf_token(self):
        pages = {
            self.curator: [self.paper.get_absolute_url(), reverse("community:moderation"),
                           reverse("community:profile", args=["member"]),
                           reverse("community:profile", args=["curator"])],
            self.owner: [reverse("community:comment_edit", args=[self.comment_id]),
                         reverse("community:profile_edit", args=["owner"]),
                         reverse("community:profile_delete", args=["owner"]),
                         reverse("community:submit"), reverse("community:password_change"),
                         reverse("papers:day", args=["2026-11-20"])],
            None: [reverse("community:signup"), reverse("community:login"),
                   reverse("community:password_reset"), reverse("papers:day", args=["2026-11-20"])],
        }
        ModerationAction.objects.create(actor=self.curator, actor_name="curator", kind="feature",
                                        target="x", reason="y")
        checked = 0
        for user, urls in pages.items():
            self.client.logout()
            if user:
                self.client.force_login(user)
            for url in urls:
                html = self.client.get(url).content.decode()
                forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S | re.I)
                assert forms, url
                for form in forms:
                    assert 'name="csrfmiddlewaretoken"' in form, (url, form[:200])
                checked += len(forms)
        assert checked > 20


class OwnershipTests(CommunityTestCase):
    """Each view that changes a member's things, as the owner, another member and a visitor."""

    def setUp(self):
        self.comment = comments.post_comment(self.owner, self.paper, "mine")

    def try_all(self, url: str, data: dict) -> dict[str, int]:
        codes = {}
        for who, login in (("outsider", self.as_outsider), ("member", self.as_member),
                           ("owner", self.as_owner)):
            login()
            codes[who] = self.client.post(url, data).status_code
        return codes

    def test_only_the_author_edits_a_comment(self):
        url = reverse("community:comment_edit", args=[self.comment.pk])
        codes = self.try_all(url, {"body": "changed"})
        assert codes == {"outsider": 302, "member": 403, "owner": 302}
        self.comment.refresh_from_db()
        assert self.comment.body == "changed"  # the owner's post, and only that one, applied

    def test_only_the_author_deletes_a_comment(self):
        url = reverse("community:comment_delete", args=[self.comment.pk])
        self.as_outsider()
        assert self.client.post(url).status_code == 302
        self.as_member()
        assert self.client.post(url).status_code == 403
        assert not Comment.objects.get().deleted
        self.as_owner()
        assert self.client.post(url).status_code == 302
        assert Comment.objects.get().deleted

    def test_only_the_owner_edits_a_profile(self):
        url = reverse("community:profile_edit", args=["owner"])
        codes = self.try_all(url, {"bio": "I study proteins."})
        assert codes == {"outsider": 302, "member": 403, "owner": 302}
        self.as_outsider()
        assert b"I study proteins." in self.client.get(reverse("community:profile", args=["owner"])).content

    def test_only_the_owner_deletes_an_account(self):
        url = reverse("community:profile_delete", args=["owner"])
        self.as_outsider()
        assert self.client.post(url, {"password": factories.PASSWORD}).status_code == 302
        self.as_member()
        # Even with the right password of the owner, another member gets a 403.
        assert self.client.post(url, {"password": factories.PASSWORD}).status_code == 403
        assert get_user_model().objects.filter(username="owner").exists()
        self.as_owner()
        response = self.client.post(url, {"password": factories.PASSWORD})
        assert response["Location"] == reverse("community:account_deleted")
        assert not get_user_model().objects.filter(username="owner").exists()


def _rates(**rates):
    """Override some rates (``"2/hour"``); ``PROXY_COUNT=None`` means one proxy in front."""
    from django.conf import settings

    proxies = {"PROXY_COUNT": 1} if rates.pop("PROXY_COUNT", 0) is None else {}
    values = {k: parse_rate(v) for k, v in rates.items()}
    return override_settings(COMMUNITY={**settings.COMMUNITY, **values}, **proxies)


class RateLimitTests(CommunityTestCase):
    def vote(self, paper, ip="10.0.0.1", **extra):
        return self.client.post(reverse("community:vote", args=[paper.pk]), {"vote": "1"},
                                REMOTE_ADDR=ip, HTTP_ACCEPT="application/json", **extra)

    def test_votes_are_limited_per_account(self):
        papers = [factories.paper() for _ in range(3)]
        self.as_member()
        with _rates(RATE_VOTES="2/hour"):
            assert [self.vote(p).status_code for p in papers] == [200, 200, 429]
            refused = self.vote(papers[2], ip="10.9.9.9")  # a new address does not help
        assert refused.status_code == 429
        assert "Too many votes from this account (the limit is 2/hour)" in refused.json()["error"]
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert Vote.objects.count() == 2

    def test_votes_are_limited_per_ip_across_accounts(self):
        with _rates(RATE_VOTES_PER_IP="2/minute"):
            for user in (self.owner, self.member):
                self.client.force_login(user)
                self.vote(self.paper, ip="192.0.2.7")
            self.as_curator()
            refused = self.vote(self.paper, ip="192.0.2.7")
            assert refused.status_code == 429
            assert "from your network address" in refused.json()["error"]
            assert self.vote(self.paper, ip="192.0.2.8").status_code == 200

    def test_the_counters_live_in_the_database_for_every_process_to_see(self):
        with _rates(RATE_VOTES="5/hour"):
            self.as_member()
            self.vote(self.paper)
            self.vote(self.paper)
        rows = dict(Throttle.objects.values_list("scope", "hits"))
        assert rows == {"votes:user": 2, "votes:ip": 2}

    def test_behind_a_proxy_the_forwarded_address_counts(self):
        with _rates(RATE_VOTES_PER_IP="1/hour", PROXY_COUNT=None):
            self.as_member()
            ok = self.vote(self.paper, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5")
            other = self.vote(self.paper, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.6")
            again = self.vote(self.paper, HTTP_X_FORWARDED_FOR="203.0.113.5")
        assert (ok.status_code, other.status_code, again.status_code) == (200, 200, 429)

    def test_comments_are_limited_too(self):
        self.as_member()
        url = reverse("community:comment_new", args=[self.paper.pk])
        with _rates(RATE_COMMENTS="1/hour"):
            assert self.client.post(url, {"body": "one"}).status_code == 302
            response = self.client.post(url, {"body": "two"})
        assert response.status_code == 429 and b"Too many comments" in response.content
        assert Comment.objects.count() == 1

    def test_submissions_are_limited_before_arxiv_is_asked(self):
        self.as_member()
        with _rates(RATE_SUBMISSIONS_PER_IP="0/hour"):
            response = self.client.post(reverse("community:submit"), {"arxiv_id": "2401.12345"})
        assert response.status_code == 429 and b"Too many submission attempts" in response.content

    def test_failed_sign_ins_are_limited_per_ip(self):
        login = reverse("community:login")
        with _rates(RATE_FAILED_LOGINS_PER_IP="2/hour"):
            for _ in range(2):
                assert self.client.post(login, {"username": "member", "password": "guess"},
                                        REMOTE_ADDR="198.51.100.9").status_code == 200
            right = {"username": "member", "password": factories.PASSWORD}
            refused = self.client.post(login, right, REMOTE_ADDR="198.51.100.9")
            assert refused.status_code == 429
            assert b"Too many failed sign-ins" in refused.content
            assert 0 < int(refused["Retry-After"]) <= 3600
            # Other addresses, and successful sign-ins, are not held back.
            assert self.client.post(login, right, REMOTE_ADDR="198.51.100.10").status_code == 302

    def test_the_site_and_the_admin_share_one_failed_sign_in_limit(self):
        factories.member("boss", is_staff=True, is_superuser=True)
        site, admin = reverse("community:login"), reverse("admin:login")
        wrong = {"username": "boss", "password": "guess"}
        right = {"username": "boss", "password": factories.PASSWORD}
        ip = {"REMOTE_ADDR": "198.51.100.20"}
        with _rates(RATE_FAILED_LOGINS_PER_IP="3/hour"):
            assert self.client.post(site, wrong, **ip).status_code == 200
            assert self.client.post(admin, wrong, **ip).status_code == 200
            assert self.client.post(admin, wrong, **ip).status_code == 200
            for url in (admin, site):
                refused = self.client.post(url, right, **ip)
                assert refused.status_code == 429, url
                assert b"Too many failed sign-ins" in refused.content
                assert 0 < int(refused["Retry-After"]) <= 3600
            # Any other caller of authenticate() is held back too, with no extra count.
            request = RequestFactory().post(site, **ip)
            assert authenticate(request, **right) is None
            assert Throttle.objects.get(scope="failed_logins:ip").hits == 3
            assert self.client.post(admin, right, REMOTE_ADDR="198.51.100.21").status_code == 302

    def test_admin_login_failures_alone_reach_the_limit(self):
        factories.member("boss", is_staff=True, is_superuser=True)
        admin = reverse("admin:login")
        with _rates(RATE_FAILED_LOGINS_PER_IP="25/hour"):
            codes = [self.client.post(admin, {"username": "boss", "password": f"guess{n}"}).status_code
                     for n in range(25)]
            right = self.client.post(admin, {"username": "boss", "password": factories.PASSWORD})
        assert codes == [200] * 25
        assert right.status_code == 429 and "Retry-After" in right

    def test_signups_are_limited_per_ip(self):
        with _rates(RATE_SIGNUPS_PER_IP="1/hour"):
            for n in range(2):
                response = self.client.post(reverse("community:signup"), {
                    "username": f"new{n}", "email": f"new{n}@example.org",
                    "password1": factories.PASSWORD, "password2": factories.PASSWORD})
                self.client.logout()
        assert response.status_code == 429
        assert get_user_model().objects.filter(username__startswith="new").count() == 1


def _settings_in_subprocess(tmp_path: Path, **env: str) -> dict:
    """The settings a fresh process computes from ``env`` (nothing from this test run)."""
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            "print(json.dumps({k: getattr(s, k, None) for k in ['SECRET_KEY', "
            "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
            "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'PASSWORD_HASHERS']}))")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("PAPERFEED_") and k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "paperfeed.settings",
             "PAPERFEED_DATA_DIR": str(tmp_path), **env})
    return json.loads(result.stdout)


def test_cookies_are_secure_only_when_served_over_https(tmp_path):
    plain = _settings_in_subprocess(tmp_path)
    assert plain["SESSION_COOKIE_SECURE"] in (None, False)
    assert plain["SESSION_COOKIE_HTTPONLY"] is True
    https = _settings_in_subprocess(tmp_path, PAPERFEED_HTTPS="1")
    assert https["SESSION_COOKIE_SECURE"] is True and https["CSRF_COOKIE_SECURE"] is True
    assert https["SECURE_SSL_REDIRECT"] is True and https["SECURE_HSTS_SECONDS"] > 0


def test_the_secret_key_comes_from_the_environment_or_a_private_generated_file(tmp_path):
    given = _settings_in_subprocess(tmp_path, PAPERFEED_SECRET_KEY="k" * 60)
    assert given["SECRET_KEY"] == "k" * 60
    assert not (tmp_path / "secret_key").exists()
    first = _settings_in_subprocess(tmp_path)["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first and len(first) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert _settings_in_subprocess(tmp_path)["SECRET_KEY"] == first  # stable across starts
    source = "\n".join(p.read_text() for p in (REPO / "paperfeed").glob("*.py"))
    assert first not in source


def test_passwords_are_stored_with_djangos_strong_hashers(tmp_path):
    hashers = _settings_in_subprocess(tmp_path)["PASSWORD_HASHERS"]
    assert hashers[0] in ("django.contrib.auth.hashers.PBKDF2PasswordHasher",
                          "django.contrib.auth.hashers.Argon2PasswordHasher",
                          "django.contrib.auth.hashers.ScryptPasswordHasher")


class SignedInSessionTests(CommunityTestCase):
    """What a session names as its member is read by signin.LimitedModelBackend.get_user
    (plain SQL); a session naming no member that can sign in is an anonymous visitor."""

    def test_a_session_naming_a_bad_or_gone_member_is_anonymous(self):
        from django.contrib.auth import SESSION_KEY

        self.as_member()
        assert self.client.get(reverse("community:password_change")).status_code == 200
        # (Sessions are kept on the server: a value that is no number at all never
        # reaches the backend, Django's own _get_user_session_key raises first.)
        for bad in ("-1", "0", "99999999", "9" * 40, f" {self.owner.pk + 1000}"):
            session = self.client.session
            session[SESSION_KEY] = bad
            session.save()
            response = self.client.get(reverse("community:password_change"))
            assert response.status_code == 302 and "login" in response["Location"], bad
            self.as_member()
        type(self.member).objects.filter(pk=self.member.pk).update(is_active=False)
        response = self.client.get(reverse("community:password_change"))
        assert response.status_code == 302 and "login" in response["Location"]
        assert get_user_model().objects.count() == 3

    def test_the_member_read_is_the_orms(self):
        from django.contrib.auth.backends import ModelBackend

        from paperfeed.community.signin import LimitedModelBackend

        ours = LimitedModelBackend().get_user(self.curator.pk)
        django_s = ModelBackend().get_user(self.curator.pk)
        fields = [f.attname for f in get_user_model()._meta.concrete_fields]
        assert [getattr(ours, f) for f in fields] == [getattr(django_s, f) for f in fields]
        assert ours.get_session_auth_hash() == django_s.get_session_auth_hash()
        assert ours.last_login is None or ours.last_login.tzinfo is not None
