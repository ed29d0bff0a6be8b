"""The demo corpus: what ``paperfeed serve`` loads into an empty database."""

import filecmp
import shutil

import pytest
from django.db.models import Count

from paperfeed.papers.models import Paper, SourceRecord
from paperfeed.sources import demo
from paperfeed.sources.http import FormatError

pytestmark = pytest.mark.django_db

# Where each vendored file came from in ../shared (see paperfeed/papers/demo/README.md).
VENDORED = {
    "hf-daily/2026-06-12_sotawhat.json": "fixtures/hf-api/sotawhat_hf_daily_papers.json",
    "hf-daily/2026-07-31_personalnewsfeed.json":
        "fixtures/hf-api/personalnewsfeed_hf_daily_papers.json",
    "arxiv-api/arxiv_api_cs.AI_LG_CL_2026-08-02.xml":
        "fixtures/arxiv-api/arxiv_api_cs.AI_LG_CL_2026-08-02.xml",
    "arxiv-oai/invenio_listrecords_arXiv_cs.xml":
        "fixtures/arxiv-oai/invenio_listrecords_arXiv_cs.xml",
}


def test_the_vendored_files_are_the_shared_recordings_unchanged(shared_dir):
    packaged = {str(p.relative_to(demo.demo_dir())) for p in demo.demo_dir().glob("*/*")
                if p.parent.name != "seeds"}
    assert packaged == set(VENDORED)
    for ours, theirs in VENDORED.items():
        assert filecmp.cmp(demo.demo_dir() / ours, shared_dir / theirs, shallow=False), ours


def test_the_demo_loads_seeds_hugging_face_days_and_arxiv_records(demo_corpus):
    assert (demo_corpus.fetched, demo_corpus.new) == (523, 517)
    sources = dict(SourceRecord.objects.values_list("source").annotate(n=Count("id")))
    assert sources == {"pages": 392, "hf-daily": 60, "arxiv-api": 25, "arxiv-oai": 46}
    assert Paper.objects.latest_feed_day().isoformat() == "2026-07-31"
    for day in ("2026-07-31", "2026-06-12"):
        papers = Paper.objects.filter(feed_date=day)
        assert papers.count() == 30
        # Every HF paper has its names and an arXiv id; most name an organisation.
        assert all(p.authors and p.arxiv_id and p.submitted_by for p in papers)
        assert papers.exclude(organization="").count() >= 15
    assert Paper.objects.exclude(arxiv_id=None).count() == 60 + 68


def test_a_paper_on_arxiv_and_hugging_face_merges_into_one_with_both_provenances(demo_corpus):
    askchem = Paper.objects.get(arxiv_id="2607.28618")
    assert sorted(askchem.source_records.values_list("source", flat=True)) == [
        "arxiv-api", "hf-daily"]
    # arXiv gives the categories and the version; Hugging Face the feed day and the votes.
    assert sorted(askchem.categories.values_list("code", flat=True)) == [
        "cs.AI", "cs.CL", "cs.IR", "cs.LG"]
    assert askchem.latest_version == 1 and askchem.feed_date.isoformat() == "2026-07-31"
    assert askchem.upvotes_imported == 292 and askchem.organization == "New York University"
    assert askchem.authors[:2] == ["Bing Yan", "Gregory Wolfe"]


def test_loading_twice_changes_nothing(demo_corpus):
    again = demo.load_demo_corpus()
    assert (again.new, again.updated) == (0, 0)
    assert Paper.objects.count() == 517


def test_a_damaged_demo_file_is_named_and_nothing_is_loaded(tmp_path, monkeypatch):
    copy = tmp_path / "demo"
    shutil.copytree(demo.demo_dir(), copy)
    (copy / "hf-daily" / "2026-07-31_personalnewsfeed.json").write_text('[{"paper": 5}]')
    monkeypatch.setattr(demo, "demo_dir", lambda: copy)
    with pytest.raises(FormatError, match=r"demo file hf-daily/2026-07-31_personalnewsfeed"
                                          r"\.json, item 1: expected an object"):
        demo.load_demo_corpus()
    assert not Paper.objects.exists()
