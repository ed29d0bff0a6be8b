"""Accounts: e-mail verification links and account deletion.

Verification links are signed with Django's signing framework (salted, timestamped),
carrying the user id and the address being verified, so a link stops working when the
address changes and after ``PAPERFEED_VERIFY_DAYS``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from paperfeed.community.models import Comment, Profile, Vote
from paperfeed.papers.models import Paper

_SALT = "paperfeed.community.verify-email"


class BadLink(Exception):
    pass


def verification_token(user: AbstractBaseUser) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=_SALT, compress=True)


def user_for_token(token: str) -> AbstractBaseUser:
    max_age = settings.COMMUNITY["VERIFY_DAYS"] * 86400
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink("This link has expired; sign in and ask for a new one.") from None
    except signing.BadSignature:
        raise BadLink("This link is not valid. Was it copied in full?") from None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.email.lower() != data.get("e"):
        raise BadLink("This link is for an account or address that no longer exists.")
    return user


def mark_verified(user: AbstractBaseUser) -> None:
    Profile.objects.update_or_create(user=user, defaults={"email_verified_at": timezone.now()})


def is_verified(user: AbstractBaseUser) -> bool:
    if user.is_staff:
        return True
    try:
        return user.community_profile.verified  # free when select_related loaded it
    except Profile.DoesNotExist:
        return False


def send_mail_template(name: str, to: str, context: dict) -> None:
    """Send ``community/email/<name>-{subject,body}.txt`` (+ ``-body.html``) as multipart."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"community/email/{name}-subject.txt", context).strip()
    text = render_to_string(f"community/email/{name}-body.txt", context)
    html = render_to_string(f"community/email/{name}-body.html", context)
    message = EmailMultiAlternatives(" ".join(subject.split()), text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


def send_verification(user: AbstractBaseUser) -> None:
    link = settings.SITE_URL + reverse("community:verify", args=[verification_token(user)])
    send_mail_template("verify", user.email, {"user": user, "link": link,
                                              "days": settings.COMMUNITY["VERIFY_DAYS"]})


def delete_account(user: AbstractBaseUser) -> None:
    """Delete an account; see docs/community.md, "Deleting an account".

    Its votes go (and stop counting); its comments are blanked but keep their place in
    threads, attributed to nobody; its submissions stay in the feed without a submitter;
    the moderation log keeps the name it recorded.
    """
    with transaction.atomic():
        voted = list(Vote.objects.filter(user=user).values_list("paper_id", flat=True))
        # One vote per account per paper (a constraint), so each paper loses exactly one.
        Paper.objects.filter(pk__in=voted).update(upvotes_local=F("upvotes_local") - 1)
        shown = (Comment.objects.filter(author=user).shown().values("paper_id")
                 .annotate(n=Count("pk")).order_by())
        for row in shown:
            Paper.objects.filter(pk=row["paper_id"]).update(
                comments_local=F("comments_local") - row["n"])
        Comment.objects.filter(author=user).update(author=None, body="", body_html="",
                                                   deleted=True)
        user.delete()
