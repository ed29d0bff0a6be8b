"""Plain factories for community tests: call with the fields that matter to the test."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from paperfeed.community.models import Profile
from paperfeed.papers.models import Paper

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def member(username: str | None = None, *, verified: bool = True, curator: bool = False,
           **fields):
    n = next(_numbers)
    username = username or f"member{n}"
    user = get_user_model().objects.create_user(
        username=username, email=fields.pop("email", f"{username}@example.org"),
        password=PASSWORD, **fields)
    if verified:
        Profile.objects.filter(user=user).update(email_verified_at=timezone.now())
    if curator:
        user.groups.add(Group.objects.get(name="curator"))
    return user


def paper(title: str | None = None, *, feed_date: dt.date | None = dt.date(2026, 11, 20),
          **fields) -> Paper:
    n = next(_numbers)
    title = title or f"A paper about test number {n}"
    fields.setdefault("arxiv_id", f"2611.{n:05d}")
    fields.setdefault("abstract", f"Abstract {n}.")
    return Paper.objects.create(title=title, title_key=title.lower()[:300], slug=f"test-paper-{n}",
                                feed_date=feed_date, **fields)


def get_user(username: str):
    return get_user_model().objects.get(username=username)
