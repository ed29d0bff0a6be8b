"""Submissions against the real recorded arXiv API answers, replayed on loopback."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from paperfeed.community.models import Comment, Submission
from paperfeed.community.tests import factories
from paperfeed.community.tests.processes import query_one, race
from paperfeed.papers.models import Paper, SourceRecord
from paperfeed.sources.testing import Reply

SUBMIT = reverse("community:submit")
A_WEEK_AFTER_1605_08386 = "2016-06-02 10:00Z"  # its v1 appeared on 2016-05-26


@pytest.fixture
def arxiv(arxiv_api_replay):
    return arxiv_api_replay


@pytest.fixture
def member_client(client, db):
    client.force_login(factories.member("ada"))
    return client


def _submit(client, arxiv_id: str, comment: str = ""):
    return client.post(SUBMIT, {"arxiv_id": arxiv_id, "comment": comment})


def _error(response) -> str:
    return " ".join(response.context["form"].errors.get("__all__", []) +
                    response.context["form"].errors.get("arxiv_id", []))


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_a_paper_submitted_by_url_enters_todays_feed(arxiv, member_client):
    response = _submit(member_client, "https://arxiv.org/abs/1605.08386", "Worth it: *fast*.")
    paper = Paper.objects.get(arxiv_id="1605.08386")
    assert response.status_code == 302 and response["Location"] == paper.get_absolute_url()
    assert paper.title.startswith("Heat-bath random walks with Markov bases")
    assert paper.feed_date == dt.date(2016, 6, 2)
    assert paper.authors == ["Caprice Stanley", "Tobias Windisch"]
    submission = Submission.objects.get()
    assert (submission.paper, submission.user.username) == (paper, "ada")
    assert set(SourceRecord.objects.values_list("source", flat=True)) == {"arxiv-api", "submission"}
    comment = Comment.objects.get()
    assert comment.body_html == "<p>Worth it: <em>fast</em>.</p>"
    assert Paper.objects.get(pk=paper.pk).comments_local == 1
    day = member_client.get(reverse("papers:day", args=["2016-06-02"]))
    assert [p.arxiv_id for p in day.context["papers"]] == ["1605.08386"]
    page = member_client.get(paper.get_absolute_url()).content.decode()
    assert "Submitted by" in page and ">ada<" in page


@time_machine.travel("2021-04-25 09:00Z", tick=False)
def test_versioned_ids_with_the_arxiv_prefix_are_accepted(arxiv, member_client):
    _submit(member_client, "arXiv:2104.12255v1")
    paper = Paper.objects.get(arxiv_id="2104.12255")
    assert (paper.feed_date, paper.latest_version) == (dt.date(2021, 4, 25), 1)


@time_machine.travel("2002-01-20 09:00Z", tick=False)
def test_old_style_ids_are_accepted(arxiv, member_client):
    _submit(member_client, "quant-ph/0201082v1")
    assert Paper.objects.get(arxiv_id="quant-ph/0201082").feed_date == dt.date(2002, 1, 20)


@time_machine.travel("2016-07-01 10:00Z", tick=False)
def test_papers_older_than_the_window_are_refused(arxiv, member_client):
    response = _submit(member_client, "1605.08386")
    assert response.status_code == 400
    assert "first appeared on arXiv on May 26, 2016" in _error(response)
    assert "last 14 days" in _error(response)
    assert not Paper.objects.exists() and not Submission.objects.exists()


@time_machine.travel("2016-07-01 10:00Z", tick=False)
def test_the_window_is_configurable(arxiv, member_client, settings):
    settings.COMMUNITY = {**settings.COMMUNITY, "SUBMISSION_WINDOW_DAYS": 60}
    assert _submit(member_client, "1605.08386").status_code == 302


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_a_paper_is_submitted_once(arxiv, client, member_client):
    _submit(member_client, "1605.08386")
    client.force_login(factories.member("grace"))
    response = _submit(client, "arXiv:1605.08386v2")
    assert "already submitted by ada on June 2, 2016" in _error(response)
    assert Submission.objects.count() == 1


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_papers_already_in_the_feed_are_refused_without_asking_arxiv(arxiv, member_client):
    factories.paper("Already here", arxiv_id="1605.08386", feed_date=dt.date(2016, 5, 27))
    response = _submit(member_client, "1605.08386")
    assert "already in the daily feed of May 27, 2016" in _error(response)
    assert arxiv.requests == []


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_a_known_paper_outside_the_feed_joins_it(arxiv, member_client):
    factories.paper("Heat-bath random walks", arxiv_id="1605.08386", feed_date=None)
    _submit(member_client, "1605.08386")
    assert Paper.objects.get().feed_date == dt.date(2016, 6, 2)


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_papers_taken_down_by_curators_cannot_come_back(arxiv, member_client):
    factories.paper("Gone", arxiv_id="1605.08386", feed_date=None, status=Paper.Status.HIDDEN)
    assert "taken down by a curator" in _error(_submit(member_client, "1605.08386"))


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_the_daily_cap_stops_a_busy_member(arxiv, member_client, settings):
    settings.COMMUNITY = {**settings.COMMUNITY, "SUBMISSIONS_PER_DAY": 1}
    factories.paper("Earlier today", arxiv_id="2611.99999", feed_date=None)
    Submission.objects.create(paper=Paper.objects.get(arxiv_id="2611.99999"),
                              user=factories.get_user("ada"), feed_date=dt.date(2016, 6, 2))
    response = _submit(member_client, "1605.08386")
    assert "You have submitted 1 paper today, the most allowed per day (1)" in _error(response)
    assert arxiv.requests == []


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_an_unknown_id_says_so(arxiv, member_client, shared_dir):
    # arXiv answers an id it does not know with an empty feed (recorded for 0000.0000).
    empty = json.loads((shared_dir / "fixtures/arxiv-api/id_0000.0000_s0_m100_8b51d9633a68.json")
                       .read_text())["body"]
    arxiv.add("/api/query?search_query=&id_list=1605.99999&sortBy=relevance"
              "&sortOrder=descending&start=0&max_results=100", Reply(200, empty))
    response = _submit(member_client, "1605.99999")
    assert "arXiv has no paper 1605.99999" in _error(response)
    assert not Paper.objects.exists()


@pytest.mark.parametrize("text", ["abc", "2401.1", "https://example.org/abs/2401.12345", ""])
def test_what_is_not_an_arxiv_id_is_refused_before_any_request(arxiv, member_client, text):
    response = _submit(member_client, text)
    assert response.status_code == 400
    assert _error(response)
    assert arxiv.requests == []


@time_machine.travel(A_WEEK_AFTER_1605_08386, tick=False)
def test_when_arxiv_is_down_nothing_is_saved(arxiv, member_client):
    arxiv.add("/api/query?search_query=&id_list=1605.08386&sortBy=relevance"
              "&sortOrder=descending&start=0&max_results=100", Reply(503, "busy"))
    response = _submit(member_client, "1605.08386")
    assert "arXiv could not be reached just now; nothing was saved" in _error(response)
    assert not Paper.objects.exists() and not Submission.objects.exists()


def test_visitors_must_sign_in_to_submit(client, db):
    response = client.get(SUBMIT)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


_SUBMITTER = """
from django.contrib.auth import get_user_model
from paperfeed.community import submissions
from paperfeed.lib.arxiv_ids import parse_arxiv_id

user = get_user_model().objects.get(pk=int(sys.argv[2]))
phase(0)
try:
    submissions.submit(user, parse_arxiv_id("1605.08386"))
    outcome = "submitted"
except submissions.Refused as refusal:
    outcome = f"refused: {refusal}"
(SYNC / f"result-{os.getpid()}").write_text(outcome)
"""


@pytest.mark.django_db(transaction=True)
def test_members_racing_to_submit_the_same_paper_get_one_submission(arxiv, tmp_path):
    racers = [factories.member().pk for _ in range(3)]
    next(race(tmp_path, _SUBMITTER, [[str(pk)] for pk in racers],
              env={"PAPERFEED_SUBMISSION_WINDOW_DAYS": "100000"}))
    outcomes = sorted(p.read_text() for p in (tmp_path / "sync").glob("result-*"))
    assert outcomes[-1] == "submitted" and len(outcomes) == 3
    for refusal in outcomes[:-1]:
        assert refusal.startswith("refused: arXiv:1605.08386 was ")  # already submitted / a moment ago
    assert query_one(tmp_path, "SELECT COUNT(*) FROM community_submission", [])[0] == 1
    assert query_one(tmp_path, "SELECT COUNT(*) FROM papers_paper WHERE arxiv_id = ?",
                     ["1605.08386"])[0] == 1
