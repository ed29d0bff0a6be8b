"""`bench paper-page` on a handful of papers: it renders real pages and splits their time."""

from __future__ import annotations

import pytest

from paperfeed.api.tests.factories import make_papers, record
from paperfeed.deploy import benchpage
from paperfeed.deploy.tests.argcheck import assert_refused
from paperfeed.search.indexing import rebuild
from paperfeed.search.service import get_engine


@pytest.fixture
def papers(db):
    made = make_papers(*[record(arxiv_id=f"2401.0000{n}", title=f"Quasar survey number {n}")
                         for n in range(1, 7)])
    rebuild(get_engine())
    return made


def test_it_samples_papers_across_the_corpus(papers):
    urls = benchpage.sample(3, 3, seed=1)
    assert len(urls["across the corpus"]) == 3 and len(urls["warm-up"]) == benchpage.WARM
    assert set(urls["across the corpus"] + urls["warm-up"]) == {
        p.get_absolute_url() for p in papers}
    assert urls["with an embedding"] == []  # none is embedded


def test_it_times_the_parts_of_each_page(papers):
    urls = [p.get_absolute_url() for p in papers[:3]]
    with benchpage.isolated_cache():
        found = benchpage.measure(urls)
    assert len(found["page"]) == 3
    # The related papers were looked up (timed around the real call) on every page.
    assert all(ms > 0 for ms in found["related"])
    assert all(queries >= 1 for queries in found["queries"])
    for page, sql, related, rest in zip(found["page"], found["sql"], found["related"],
                                        found["rest"], strict=True):
        assert 0 < sql < page and rest == pytest.approx(page - sql - related)
    text = benchpage.report({"across the corpus": found,
                             "with an embedding": {key: [] for key in found}}, 6)
    assert "| part | across the corpus (3) p50 | p90 |" in text
    assert "with an embedding (" not in text  # an empty group has no columns
    assert "| related papers (search) |" in text


def test_a_missing_page_stops_the_run(papers):
    with pytest.raises(SystemExit, match="404"):
        benchpage.measure(["/papers/9999.99999"])


@pytest.mark.parametrize("argv, message", [
    (["--pages", "0"], "'0' is not a whole number of 1 or more"),
    (["--embedded", "-1"], "'-1' is not a whole number of 0 or more"),
    (["--seed", "x"], "'x' is not a whole number of 0 or more"),
])
def test_arguments_out_of_range_are_refused_by_name(argv, message, capsys):
    assert_refused(benchpage.add_arguments, "paperfeed bench paper-page", argv, message, capsys)
