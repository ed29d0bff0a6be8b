"""Every form field and URL part that carries an id, given hostile values.

The answer is a 400 (or the form again with its error), a 404 or a redirect — never a
500: not for text (``abc``), a negative number, a number past any database integer
(``10**30``), nothing at all, or the field given twice.
"""

from __future__ import annotations

import pytest
from django.test import Client

from paperfeed.community.models import Comment
from paperfeed.community.tests import factories
from paperfeed.recommend.models import Interest

pytestmark = pytest.mark.django_db

HOSTILE = ["abc", "-1", "0", str(10**30), str(2**63), "", " 1", "1.5", "1e3", "\x00", "٣"]


@pytest.fixture
def world():
    owner = factories.member("owner")
    curator = factories.member("curator", curator=True)
    paper = factories.paper("A paper to be hostile to")
    comment = Comment.objects.create(paper=paper, author=owner, body="First!")
    interest = Interest.objects.create(user=owner, kind=Interest.Kind.KEYWORD, value="protein")
    return {"owner": owner, "curator": curator, "paper": paper, "comment": comment,
            "interest": interest}


def _client(user) -> Client:
    client = Client(SERVER_NAME="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    return client


def _posts(world):
    """(who, URL, form data) for each id-carrying form field, with a hostile value."""
    paper, comment = world["paper"], world["comment"]
    for value in HOSTILE:
        yield "owner", "/papers/for-you/settings", {"remove": value}
        yield "owner", "/papers/for-you/settings", {"remove": ["999999", value]}
        yield "owner", f"/comments/on/{paper.pk}/", {"body": "A reply", "parent": value}
        yield "owner", f"/comments/on/{paper.pk}/", {"body": "A reply", "parent": [value, "1"]}
        yield "owner", f"/votes/{paper.pk}/", {"vote": value}
        yield "owner", f"/papers/for-you/feedback/{paper.pk}", {"action": value}
        yield "curator", f"/moderation/papers/{paper.pk}/", {"reason": "spam", "kind": value}
        yield "curator", f"/comments/{comment.pk}/moderate/", {"reason": "spam", "hide": value}


def _urls():
    """Id-carrying URL parts: the value in place of the id."""
    for value in ("abc", "-1", str(10**30), str(2**63), str(2**63 - 1), "0"):
        yield "owner", f"/votes/{value}/", {"vote": "1"}
        yield "owner", f"/comments/on/{value}/", {"body": "Hello"}
        yield "owner", f"/comments/{value}/edit/", {"body": "Hello"}
        yield "owner", f"/comments/{value}/delete/", {}
        yield "curator", f"/comments/{value}/moderate/", {"reason": "spam", "hide": "1"}
        yield "curator", f"/moderation/papers/{value}/", {"reason": "spam", "kind": "hide"}
        yield "owner", f"/papers/for-you/feedback/{value}", {"action": "save"}
        yield "curator", f"/admin/community/comment/{value}/change/", None
        yield "curator", f"/admin/papers/paper/{value}/change/", None


def test_no_id_field_or_id_in_a_url_answers_a_server_error(world):
    world["curator"].is_staff = world["curator"].is_superuser = True
    world["curator"].save()
    clients = {"owner": _client(world["owner"]), "curator": _client(world["curator"])}
    failures = []
    for who, url, data in [*_posts(world), *_urls()]:
        client = clients[who]
        response = client.get(url) if data is None else client.post(url, data)
        if response.status_code >= 500:
            failures.append(f"{who} {url} {data!r} -> {response.status_code}")
    assert failures == [], "\n".join(failures)


def test_a_bad_id_to_remove_a_topic_is_a_400_that_says_so(world):
    client = _client(world["owner"])
    response = client.post("/papers/for-you/settings", {"remove": "abc"})
    assert response.status_code == 400
    assert "topic" in response.content.decode().lower()
    response = client.post("/papers/for-you/settings", {"remove": str(world["interest"].pk)})
    assert response.status_code == 302
    assert not Interest.objects.filter(pk=world["interest"].pk).exists()
