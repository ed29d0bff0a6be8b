from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from paperfeed.community.moderation import is_curator
from paperfeed.community.tests import factories


def _run(*args) -> str:
    out = io.StringIO()
    call_command("curator", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_gives_and_takes_the_curator_role():
    factories.member("ada", email="ada@example.org")
    assert _run("add", "ADA@example.org") == "ada is now a curator.\n"
    assert is_curator(factories.get_user("ada"))
    assert _run("list") == "ada\n"
    _run("remove", "ada")
    assert not is_curator(factories.get_user("ada"))
    assert _run("list") == ""


@pytest.mark.django_db
def test_it_says_when_the_user_does_not_exist():
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        _run("add", "nobody")
    with pytest.raises(CommandError, match="needs a user name"):
        _run("add")
