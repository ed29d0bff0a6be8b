from __future__ import annotations

import io

import pytest

from paperfeed.community import bench
from paperfeed.community.models import Vote
from paperfeed.papers.models import Paper


@pytest.mark.django_db
def test_the_benchmark_runs_and_leaves_the_database_as_it_was():
    out = io.StringIO()
    assert bench.run({"repeat": 1, "votes": 5, "no_write": True}, out) == 0
    assert "casting one upvote" in out.getvalue() and "x |" in out.getvalue()
    assert not Paper.objects.exists() and not Vote.objects.exists()
