"""The OpenAPI document says exactly what the server does, and nothing makes a 5xx.

schemathesis reads ``/api/openapi.json`` from the app itself and sends generated requests
(valid and invalid parameters) through WSGI, with every check: no server error; statuses,
content types and bodies as documented; every request the document forbids is rejected,
and every request it allows is accepted ("schema-valid request rejected" never happens).
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth

from paperfeed.api.tests.factories import make_papers, record

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def keep_connection():
    """Requests go through the raw WSGI app, whose request_finished would close the test's
    database connection (and lose its transaction); Django's test client avoids this the
    same way."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def some_papers(db, keep_connection):
    make_papers(
        record(arxiv_id="2401.01234", title="Attention with a twist & more", abstract="About x.",
               authors=("A. Author",), categories=("cs.LG",), feed_date=dt.date(2025, 2, 3),
               published_on=dt.date(2025, 2, 1), upvotes=3, submitted_by="alice"),
        record(arxiv_id="hep-th/9901001", title="Strings, old style", categories=("hep-th",),
               published_on=dt.date(1999, 1, 4)),
        record(title="Only a title"),
    )


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_server_does_what_the_document_says(case, some_papers):
    case.call_and_validate(headers={"Host": "127.0.0.1"})


@pytest.fixture
def member_token(some_papers, monkeypatch):
    """A verified member's token, and an arXiv address where nothing answers (submissions
    then fail cleanly with 503; their success is tested against recordings elsewhere)."""
    import socket

    from paperfeed.api.models import ApiToken
    from paperfeed.community.tests.factories import member

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")
    return ApiToken.objects.issue(member("schemathesis"), "fuzz")[1]


@schema.include(tag="Members").parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_members_routes_with_a_token_make_no_server_error(case, member_token):
    response = case.call(headers={"Host": "127.0.0.1", "Authorization": f"Bearer {member_token}"})
    # The one 5xx allowed is the documented 503 of a submission while arXiv is unreachable
    # (as it is here), so that check is made by hand and the rest by schemathesis.
    unreachable = case.path == "/api/v1/submissions" and response.status_code == 503
    assert response.status_code < 500 or unreachable, response.text
    # ignored_auth would take our real token for a generated (invalid) one; refusing bad
    # and missing tokens is tested in test_members.
    case.validate_response(response, excluded_checks=[not_a_server_error, ignored_auth])
