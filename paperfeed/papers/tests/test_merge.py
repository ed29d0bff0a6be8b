import datetime as dt

import pytest

from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper, PaperVersion, SourceRecord
from paperfeed.papers.records import VersionRecord
from paperfeed.papers.signals import papers_changed
from paperfeed.papers.tests.factories import paper, record

pytestmark = pytest.mark.django_db


def test_a_record_with_an_arxiv_id_adopts_the_paper_known_by_title():
    seed = paper(source="pages", original_id="p#1", arxiv_id=None, version=None,
                 title="Attention Is All You Need", authors=(), author_count=8, upvotes=3)
    assert seed.arxiv_id is None and seed.slug == "attention-is-all-you-need"
    stats = apply_records([record(arxiv_id="1706.03762", title="Attention is all you need",
                                  original_id="1706.03762", upvotes=None)])
    assert (stats.new, stats.updated) == (0, 1)
    adopted = Paper.objects.get()
    assert adopted.pk == seed.pk and adopted.arxiv_id == "1706.03762"
    assert adopted.slug == "attention-is-all-you-need"  # old links keep working
    assert adopted.upvotes_imported == 3 and adopted.authors == ["Ada Lovelace", "Alan Turing"]


def test_two_arxiv_ids_with_one_title_stay_two_papers():
    paper(arxiv_id="2501.00001", title="Same Title")
    paper(arxiv_id="2501.00002", title="Same Title")
    assert Paper.objects.count() == 2
    assert len(set(Paper.objects.values_list("slug", flat=True))) == 2


def test_the_newest_version_wins_and_earlier_versions_are_kept():
    v1 = record(arxiv_id="2502.00001", original_id="a", version=1, title="Old title",
                abstract="Old abstract of the paper.", versions=(VersionRecord(1),))
    v2 = record(arxiv_id="2502.00001", original_id="b", version=2, title="New title",
                abstract="New abstract of the paper.",
                versions=(VersionRecord(1), VersionRecord(2)))
    apply_records([v2])
    apply_records([v1])  # arriving late must not roll the title back
    p = Paper.objects.get()
    assert (p.title, p.abstract, p.latest_version) == ("New title", "New abstract of the paper.", 2)
    versions = {v.version: v.text for v in PaperVersion.objects.filter(paper=p)}
    assert versions == {1: ("Old title", "Old abstract of the paper."),
                        2: ("New title", "New abstract of the paper.")}
    # The latest version's text is stored once, on the paper.
    assert PaperVersion.objects.get(paper=p, version=2).title == ""


def test_a_newer_version_in_a_later_import_keeps_the_superseded_text():
    apply_records([record(arxiv_id="2502.00002", original_id="a", version=1, title="First",
                          abstract="First abstract.", versions=(VersionRecord(1),))])
    apply_records([record(arxiv_id="2502.00002", original_id="a", version=3, title="Third",
                          abstract="Third abstract.",
                          versions=(VersionRecord(1), VersionRecord(2), VersionRecord(3)))])
    p = Paper.objects.get()
    assert (p.title, p.latest_version) == ("Third", 3)
    versions = {v.version: v.text for v in PaperVersion.objects.filter(paper=p)}
    assert versions == {1: ("First", "First abstract."), 2: ("", ""),
                        3: ("Third", "Third abstract.")}
    assert PaperVersion.objects.get(paper=p, version=3).abstract == ""


def test_imported_upvotes_never_overwrite_local_votes():
    p = paper(upvotes=4)
    Paper.objects.filter(pk=p.pk).update(upvotes_local=7)
    apply_records([record(arxiv_id=p.arxiv_id, original_id="hf-1", source="hf-daily", upvotes=10)])
    p.refresh_from_db()
    assert (p.upvotes_imported, p.upvotes_local, p.total_upvotes) == (10, 7, 17)


def test_reimporting_an_unchanged_record_touches_nothing_and_a_changed_one_updates():
    rec = record(upvotes=1)
    apply_records([rec])
    before = Paper.objects.values().get()
    stats = apply_records([rec])
    assert (stats.skipped, stats.updated, stats.new) == (1, 0, 0)
    assert Paper.objects.values().get() == before
    stats = apply_records([record(arxiv_id=rec.arxiv_id, original_id=rec.original_id, upvotes=5)])
    assert stats.updated == 1
    assert Paper.objects.get().upvotes_imported == 5
    assert SourceRecord.objects.get().upvotes == 5


def test_categories_are_merged_and_the_first_stays_primary():
    p = paper(categories=("cs.CL", "cs.LG"))
    apply_records([record(arxiv_id=p.arxiv_id, original_id="other", categories=("stat.ML", "cs.CL"))])
    p.refresh_from_db()
    assert p.primary_category_id == "cs.CL"
    assert set(p.categories.values_list("code", flat=True)) == {"cs.CL", "cs.LG", "stat.ML"}


def test_unknown_category_codes_are_kept_not_dropped():
    p = paper(categories=("cs.XY",))
    assert list(p.categories.values_list("code", flat=True)) == ["cs.XY"]


def test_feed_date_is_the_earliest_and_published_the_first_version():
    p = paper(feed_date=dt.date(2025, 3, 2), published_on=dt.date(2025, 2, 27))
    apply_records([record(arxiv_id=p.arxiv_id, original_id="x", feed_date=dt.date(2025, 3, 9),
                          published_on=dt.date(2025, 2, 27), updated_on=dt.date(2025, 3, 8))])
    p.refresh_from_db()
    assert (p.feed_date, p.published_on, p.updated_on) == (
        dt.date(2025, 3, 2), dt.date(2025, 2, 27), dt.date(2025, 3, 8))


def test_duplicates_inside_one_batch_become_one_paper():
    a = record(arxiv_id="2503.00001", original_id="one")
    b = record(arxiv_id="2503.00001", original_id="two", upvotes=9)
    stats = apply_records([a, b])
    assert stats.new == 1 and Paper.objects.count() == 1
    assert Paper.objects.get().upvotes_imported == 9


def test_slugs_never_shadow_pages():
    p = paper(arxiv_id=None, title="Trending", source="pages", original_id="t", version=None)
    assert p.slug == "trending-2"


def test_listeners_hear_about_changed_papers_after_commit(django_capture_on_commit_callbacks):
    heard = []

    def listener(sender, paper_ids, **kwargs):
        heard.append(paper_ids)

    papers_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            apply_records([record(arxiv_id="2504.00001"), record(arxiv_id="2504.00002")])
        assert heard == [sorted(Paper.objects.values_list("pk", flat=True))]
        with django_capture_on_commit_callbacks(execute=True):
            apply_records([])
        assert len(heard) == 1
    finally:
        papers_changed.disconnect(listener)
