"""Followers: each index folder applies the change log, bootstraps, survives kills, is pruned for.

Stored vectors here are random (no model): the follower only copies them from the
database into the vector index, which is what a host without the model does.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from paperfeed.papers import changelog
from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import ChangeLogHorizon, Paper, PaperChange
from paperfeed.papers.records import PaperRecord
from paperfeed.search.engine import Engine
from paperfeed.search.follower import Follower, hosts_lag, prune_log
from paperfeed.search.models import PaperEmbedding, SearchHost
from paperfeed.search.query import parse_query

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _only_this_tests_hosts():
    # Processes started by earlier tests (PostgreSQL) committed their hosts' reports and
    # log entries; pruning would rightly wait for those hosts. Removed inside this test's
    # transaction only.
    for model in (SearchHost, PaperChange, ChangeLogHorizon):
        model.objects.all().delete()
MODEL = "test-model"
rng = np.random.default_rng(7)


def _ingest(arxiv_id: str, title: str) -> int:
    apply_records([PaperRecord(source="arxiv-api", original_id=arxiv_id, arxiv_id=arxiv_id,
                               version=1, title=title, abstract="An abstract.")])
    return Paper.objects.get(arxiv_id=arxiv_id).pk


def _embed(pk: int) -> np.ndarray:
    vector = rng.normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    PaperEmbedding.objects.update_or_create(paper_id=pk, defaults={
        "model": MODEL, "text_hash": "x", "vector": PaperEmbedding.pack(vector)})
    changelog.record([pk])
    return vector


def _host(tmp_path, name: str) -> Follower:
    return Follower(Engine(tmp_path / name, model_name=MODEL))


def _found(follower: Follower, words: str) -> list[int]:
    return [pk for pk, _ in follower.engine.keyword.search(parse_query(words))[0]]


def test_a_new_folder_bootstraps_from_the_database_then_follows(tmp_path):
    first = _ingest("2501.00001", "Zebrafish fin regeneration")
    vector = _embed(first)
    host = _host(tmp_path, "b")
    host.catch_up()
    assert host.last_bootstrap == (1, 1)
    assert _found(host, "zebrafish") == [first]
    assert host.engine.vectors.search(vector, 1)[0][0] == first
    second = _ingest("2501.00002", "Axolotl limb regeneration")
    assert host.catch_up() == 1
    assert _found(host, "axolotl") == [second]
    assert host.last_bootstrap == (1, 1)  # followed, not rebuilt


def test_a_hidden_paper_leaves_both_indexes_of_every_host(tmp_path):
    pk = _ingest("2501.00001", "Zebrafish fin regeneration")
    vector = _embed(pk)
    hosts = [_host(tmp_path, "a"), _host(tmp_path, "b")]
    for host in hosts:
        host.catch_up()
    paper = Paper.objects.get(pk=pk)
    paper.status = Paper.Status.HIDDEN
    paper.save()
    for host in hosts:
        host.catch_up()
        assert _found(host, "zebrafish") == []
        assert host.engine.vectors.search(vector, 1) == []


def test_a_kill_after_the_index_commit_replays_the_group_without_duplicates(tmp_path,
                                                                              monkeypatch):
    host = _host(tmp_path, "b")
    host.catch_up()
    pks = [_ingest(f"2501.0000{i}", f"Regeneration study {i}") for i in range(3)]
    for pk in pks:
        _embed(pk)
    saved = Follower._save

    def killed(self, state):
        raise KeyboardInterrupt("kill -9 after the indexes committed")

    monkeypatch.setattr(Follower, "_save", killed)
    with pytest.raises(KeyboardInterrupt):
        host.catch_up()
    monkeypatch.setattr(Follower, "_save", saved)
    restarted = _host(tmp_path, "b")
    before = restarted.state().position
    assert restarted.catch_up() == 3  # the same group, again
    assert restarted.state().position > before
    assert restarted.engine.keyword.num_docs == 3
    assert len(restarted.engine.vectors) == 3
    assert sorted(_found(restarted, "regeneration")) == sorted(pks)
    assert restarted.catch_up() == 0


def test_a_follower_behind_the_pruned_log_bootstraps_again(tmp_path):
    late, current = _host(tmp_path, "late"), _host(tmp_path, "current")
    late.catch_up()
    _ingest("2501.00001", "Zebrafish fin regeneration")
    current.catch_up()
    SearchHost.objects.filter(host_id=late.state().host_id).update(
        seen_at=timezone.now() - dt.timedelta(days=30))  # gone quiet: no longer waited for
    assert prune_log() == 1
    late.catch_up()
    assert late.last_bootstrap == (1, 0)
    assert _found(late, "zebrafish")


def test_pruning_waits_for_the_slowest_host_that_reported_recently(tmp_path):
    slow, fast = _host(tmp_path, "slow"), _host(tmp_path, "fast")
    slow.catch_up()
    fast.catch_up()
    _ingest("2501.00001", "Zebrafish fin regeneration")
    fast.catch_up()
    assert prune_log() == 0
    slow.catch_up()
    assert prune_log() == 1
    assert changelog.read_after(changelog.START) == []


def test_status_shows_each_host_and_its_lag(tmp_path):
    behind, current = _host(tmp_path, "behind"), _host(tmp_path, "current")
    behind.catch_up()
    _ingest("2501.00001", "Zebrafish fin regeneration")
    _ingest("2501.00002", "Axolotl limb regeneration")
    current.catch_up()
    lags = {lag.name.rsplit("/", 1)[-1]: lag for lag in hosts_lag()}
    assert lags["behind"].behind == 2 and lags["behind"].lag_seconds >= 0
    assert lags["current"].behind == 0 and lags["current"].lag_seconds == 0
    out = io.StringIO()
    call_command("index", "status", stdout=out)
    lines = {line.split()[-1].rsplit("/", 1)[-1]: line.split() for line in
             out.getvalue().splitlines()[1:]}
    assert lines["behind"][0] == "2" and lines["current"][0] == "0"


def test_an_unreadable_position_file_means_a_bootstrap(tmp_path):
    host = _host(tmp_path, "b")
    host.catch_up()
    host.state_path.write_text("{not json")
    _ingest("2501.00001", "Zebrafish fin regeneration")
    host.catch_up()
    assert host.last_bootstrap == (1, 0)
