"""The change log: written in the same transaction as each change, read in commit-safe order."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from paperfeed.papers import changelog, prepared
from paperfeed.papers.changelog import START, Position
from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper, PaperChange
from paperfeed.papers.tests.factories import paper, record


def _logged() -> list[list[int]]:
    return [entry.paper_ids for entry in changelog.read_after(START, limit=1000)]


@pytest.mark.django_db
def test_a_merge_logs_its_papers_in_its_own_transaction():
    apply_records([record(arxiv_id="2501.00001"), record(arxiv_id="2501.00002", title="Two")])
    ids = sorted(Paper.objects.values_list("pk", flat=True))
    assert _logged() == [ids]


@pytest.mark.django_db
def test_a_rolled_back_merge_leaves_no_entry():
    with pytest.raises(RuntimeError), transaction.atomic():
        apply_records([record(arxiv_id="2501.00001")])
        raise RuntimeError("the batch failed after the merge")
    assert not PaperChange.objects.exists()


@pytest.mark.django_db
def test_saving_deleting_and_moderating_a_paper_are_logged():
    from django.contrib.auth.models import Group, Permission, User

    from paperfeed.community import moderation

    item = paper(arxiv_id="2501.00001")
    PaperChange.objects.all().delete()
    item.title = "Edited in the admin"
    item.save()
    curator = User.objects.create(username="curator")
    group, _ = Group.objects.get_or_create(name=moderation.CURATOR_GROUP)
    group.permissions.add(Permission.objects.get(codename="moderate"))
    curator.groups.add(group)
    curator = User.objects.get(pk=curator.pk)
    moderation.moderate_paper(curator, item, moderation.Kind.HIDE_PAPER, "spam")
    pk = item.pk
    item.delete()
    assert _logged() == [[pk], [pk], [pk]]


@pytest.mark.django_db
def test_the_bulk_fast_path_logs_one_entry_per_batch():
    records = [record(arxiv_id=f"2501.{i:05d}", title=f"Paper {i}") for i in range(30)]
    preparer = prepared.Preparer()
    for start in (0, 15):
        batch = records[start:start + 15]
        items = [preparer.prepare(r, r.content_hash(), i) for i, r in enumerate(batch)]
        stats = prepared.apply_prepared(items, lambda item, b=batch: b[item.payload])
        assert stats.new == 15
    entries = _logged()
    assert [len(ids) for ids in entries] == [15, 15]
    assert sorted(entries[0] + entries[1]) == sorted(Paper.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_pruning_moves_the_horizon_and_deletes_only_older_entries():
    for n in range(3):
        changelog.record([n + 1])
    entries = changelog.read_after(START)
    assert changelog.prune(entries[1].position) == 2
    assert changelog.horizon() == entries[1].position
    assert [e.paper_ids for e in changelog.read_after(changelog.horizon())] == [[3]]
    # An older position never moves the horizon back.
    changelog.prune(entries[0].position)
    assert changelog.horizon() == entries[1].position


def _writer(paper_ids: list[int], logged: threading.Event, release: threading.Event) -> None:
    try:
        with transaction.atomic():
            changelog.record(paper_ids)
            logged.set()
            release.wait(10)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_to_log", ["older", "younger"])
def test_an_entry_committed_out_of_order_is_not_skipped(first_to_log):
    """T1 logs first (smaller id) but commits after T2: a reader must get both, in order.

    Read by ``id > last``, T2's entry (id 2) would be read while T1 runs, and T1's
    (id 1) never. Also the other way round: the transaction that started first (the
    smaller transaction id) logs second.
    """
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids commit in order there")
    # Both transactions take their transaction ids now, in this order.
    started, log_now, logged, commit = ([threading.Event(), threading.Event()]
                                        for _ in range(4))

    def run(i: int) -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_current_xact_id()")
                started[i].set()
                log_now[i].wait(10)
                changelog.record([100 + i])
                logged[i].set()
                commit[i].wait(10)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    threads[0].start()
    started[0].wait(10)
    threads[1].start()
    started[1].wait(10)
    order = (0, 1) if first_to_log == "older" else (1, 0)
    for i in order:  # each logs in turn (its ids follow that order) ...
        log_now[i].set()
        logged[i].wait(10)
    commit[1].set()  # ... then the younger transaction commits first
    threads[1].join(10)
    # The younger one's entry is committed and, by id alone, readable ...
    assert list(PaperChange.objects.values_list("paper_ids", flat=True)) == [[101]]
    assert changelog.read_after(START) == []  # ... but the older one still runs  # the older one still runs: nothing is safe
    commit[0].set()
    threads[0].join(10)
    entries = changelog.read_after(START)
    assert [e.paper_ids for e in entries] == [[100], [101]]
    ids = {e.paper_ids[0]: e.position.change_id for e in entries}
    assert (ids[100] < ids[101]) == (first_to_log == "older")
    assert entries[0].position < entries[1].position
    assert changelog.read_after(entries[-1].position) == []


@pytest.mark.django_db(transaction=True)
def test_a_bootstrap_position_covers_what_committed_and_not_what_runs():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the position is the last id there")
    logged, release = threading.Event(), threading.Event()
    changelog.record([1])  # committed (autocommit) before the bootstrap
    thread = threading.Thread(target=_writer, args=([2], logged, release))
    thread.start()
    logged.wait(10)
    position = changelog.current_position()
    release.set()
    thread.join(10)
    assert [e.paper_ids for e in changelog.read_after(position)] == [[2]]


@pytest.mark.django_db
def test_positions_order_by_transaction_then_id():
    assert Position(1, 99) < Position(2, 0) < Position(2, 1)
