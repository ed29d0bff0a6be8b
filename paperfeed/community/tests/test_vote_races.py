"""Concurrent votes from separate processes (see processes.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.community.tests import factories
from paperfeed.community.tests.processes import query_one, race
from paperfeed.papers.models import Paper

PROCESSES = 3

_VOTER = """
from django.contrib.auth import get_user_model
from paperfeed.community.votes import set_vote
from paperfeed.papers.models import Paper

paper = Paper.objects.get(pk=int(sys.argv[2]))
users = list(get_user_model().objects.filter(pk__in=[int(u) for u in sys.argv[4].split(",")]))
for n, wish in enumerate(sys.argv[3].split(",")):
    phase(n)
    for user in users:
        set_vote(user, paper, wish == "1")
"""


def _voters(paper: Paper, wishes: list[str], groups: list[list[int]]) -> list[list[str]]:
    return [[str(paper.pk), ",".join(wishes), ",".join(map(str, g))] for g in groups]


def _state(tmp_path: Path, paper: Paper) -> tuple[int, int]:
    """(vote rows, upvotes_local) as the processes left them."""
    rows = query_one(tmp_path, "SELECT COUNT(*) FROM community_vote WHERE paper_id = ?",
                     [paper.pk])[0]
    local = query_one(tmp_path, "SELECT upvotes_local FROM papers_paper WHERE id = ?",
                      [paper.pk])[0]
    return rows, local


@pytest.mark.django_db(transaction=True)
def test_a_double_click_from_several_processes_counts_one_vote(tmp_path):
    voter = factories.member()
    paper = factories.paper()
    phases = race(tmp_path, _VOTER, _voters(paper, ["1", "0"], [[voter.pk]] * PROCESSES),
                  phases=2)
    next(phases)
    assert _state(tmp_path, paper) == (1, 1)
    next(phases)
    assert _state(tmp_path, paper) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_many_members_voting_at_once_lose_no_vote(tmp_path):
    voters = [factories.member().pk for _ in range(PROCESSES * 5)]
    paper = factories.paper()
    groups = [voters[i::PROCESSES] for i in range(PROCESSES)]
    next(race(tmp_path, _VOTER, _voters(paper, ["1"], groups)))
    assert _state(tmp_path, paper) == (len(voters), len(voters))
