import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from paperfeed.conftest import TESTDATA
from paperfeed.papers.models import Paper, SourceRecord
from paperfeed.sources import pages

# Entries per seed page, counted by hand from the files: 000 and 004 list titles and
# abstracts only; 001-003 carry bylines and dates for most entries.
EXPECTED_ENTRIES = {"000": 18, "001": 57, "002": 41, "003": 57, "004": 219}
EXPECTED_DATED = {"000": 0, "001": 55, "002": 40, "003": 51, "004": 0}
EXPECTED_UNIQUE_PAPERS = 389  # three papers appear on two pages
UNDATED_IN_001 = ["Barbarians at the Gate: How AI is Upending Systems Research",
                  "Agentic Entropy-Balanced Policy Optimization"]


def _by_prefix(files):
    return {path.name[:3]: path for path in files}


def test_every_seed_page_yields_its_exact_number_of_entries(demo_seeds):
    for prefix, path in _by_prefix(demo_seeds).items():
        page = pages.parse_page(path, today=dt.date(2026, 11, 23))
        assert len(page.entries) == EXPECTED_ENTRIES[prefix], path.name
        assert sum(1 for e in page.entries if e.date) == EXPECTED_DATED[prefix], path.name
        assert all(len(e.abstract) > 100 for e in page.entries), path.name


def test_the_packaged_demo_corpus_is_the_saved_seed_pages(demo_seeds):
    # testdata/MANIFEST.json holds the saved pages' SHA-256 (paperfeed/tests/test_testdata.py
    # checks each); here: the demo loads exactly those files, no more, no fewer.
    manifest = json.loads((TESTDATA / "MANIFEST.json").read_text())
    seeds = sorted(n.removeprefix("seeds/") for n in manifest if n.startswith("seeds/"))
    assert [p.name for p in demo_seeds] == seeds


def test_it_reads_bylines_dates_and_upvotes_exactly(demo_seeds):
    page = pages.parse_page(_by_prefix(demo_seeds)["001"], today=dt.date(2026, 11, 23))
    assert page.year == 2025  # latest printed year is 2024, so "Sep 28" is 2025
    first, second = page.entries[0], page.entries[1]
    assert first.title == "On the Design and Analysis of LLM-Based Algorithms"
    assert first.author_count == 4
    assert first.date.resolve(page.year) == dt.date(2024, 7, 20)
    assert first.date.upvotes is None
    assert second.title.startswith("Group-Relative REINFORCE Is Secretly an Off-Policy Algorithm")
    assert (second.author_count, second.date.resolve(page.year), second.date.upvotes) == (
        8, dt.date(2025, 9, 28), 2)
    tencent = next(e for e in page.entries if e.organization)
    assert tencent.organization == "Tencent" and tencent.author_count is None
    assert tencent.date.upvotes == 5 and tencent.date.resolve(page.year) == dt.date(2025, 11, 9)
    undated = [e.title for e in page.entries if e.date is None]
    assert undated == UNDATED_IN_001


def test_it_reads_the_other_layout_with_subscribe_glued_to_the_first_title(demo_seeds):
    page = pages.parse_page(_by_prefix(demo_seeds)["004"])
    assert page.entries[0].title == "DenseNets Reloaded: Paradigm Shift Beyond ResNets and ViTs"
    assert page.entries[0].abstract.startswith("This paper revives Densely Connected")
    assert page.entries[-1].title == "Finch: Prompt-guided Key-Value Cache Compression"
    assert page.page_date is None


def test_an_organisation_byline_keeps_its_single_name(demo_seeds):
    page = pages.parse_page(_by_prefix(demo_seeds)["003"], today=dt.date(2026, 11, 23))
    entry = next(e for e in page.entries if e.organization)
    assert entry.organization == "HKUSTGZ"
    assert entry.title.startswith("Unified Diffusion VLA")
    assert (entry.date.resolve(page.year), entry.date.upvotes) == (dt.date(2025, 11, 3), 1)


@pytest.mark.django_db
def test_importing_all_seeds_gives_one_paper_per_title_and_reimporting_changes_nothing(demo_seeds, capsys):
    call_command("import_pages", *map(str, demo_seeds))
    assert Paper.objects.count() == EXPECTED_UNIQUE_PAPERS
    assert SourceRecord.objects.count() == sum(EXPECTED_ENTRIES.values())
    snapshot = list(Paper.objects.order_by("pk").values())
    call_command("import_pages", *map(str, demo_seeds))
    assert list(Paper.objects.order_by("pk").values()) == snapshot
    out = capsys.readouterr().out
    assert "new 0 / updated 0 / skipped 392" in out


@pytest.mark.django_db
def test_a_paper_on_two_pages_is_one_paper_with_both_provenances(demo_corpus):
    trace = Paper.objects.get(title__startswith="Trace is the New AutoDiff")
    # Undated on page 000, dated on 002 (Jun 23, 2024, 3 authors, 1 upvote): 002's facts win.
    assert trace.source_records.count() == 2
    assert (trace.published_on, trace.author_count, trace.upvotes_imported) == (dt.date(2024, 6, 23), 3, 1)
    moe = Paper.objects.get(title__startswith="A Comprehensive Survey of Mixture-of-Experts")
    assert moe.published_on == dt.date(2025, 3, 10) and moe.author_count == 2


@pytest.mark.django_db
def test_seed_papers_carry_date_author_count_upvotes_and_code_links(demo_corpus):
    grpo = Paper.objects.get(title__startswith="Group-Relative REINFORCE")
    assert (grpo.published_on, grpo.feed_date, grpo.author_count, grpo.upvotes_imported) == (
        dt.date(2025, 9, 28), dt.date(2025, 9, 28), 8, 2)
    assert grpo.upvotes_local == 0
    seeds = Paper.objects.filter(source_records__source="pages").distinct()
    with_code = seeds.exclude(code_url="")
    assert with_code.exists()
    assert all(p.code_url.startswith("https://") for p in with_code)
    assert seeds.filter(feed_date__isnull=False).count() == 145  # 146 dated entries, one paper twice


def _write(tmp_path, text, name="page.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_ENTRY = (
    "A Title\n\nAn abstract that is long enough to be an abstract.\n\n"
    "  • 3 authors\n·\nSep 28 2\n"
)
HEADER = "Daily Papers\n\nbyAK and the research community\n\nDec 11\n\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("", 1, "empty"),
        ("Just some text\n\nwith nothing in it\n", 1, "not a saved Daily Papers page"),
        (HEADER + GOOD_ENTRY + "\nOrphan Title\n", 15, "has no abstract"),
        (HEADER + "A Title\n\nAn abstract that is long enough.\n\n  • 3 authors\n\nSep 28\n", 13, "expected '·'"),
        (HEADER + "A Title\n\nAn abstract that is long enough.\n\n  • 3 authors\n·\nSeptember 28\n", 13, "expected a date"),
        (HEADER + "A Title\n\n·\n", 9, "expected the abstract"),
        (HEADER + "  • 3 authors\n", 7, "expected a paper title"),
        # Values the database cannot hold (PostgreSQL failed the import with a DataError).
        (HEADER + GOOD_ENTRY.replace("3 authors", "99999999999 authors"), 7,
         "'A Title': 'author_count' is 99999999999, outside 0..2147483647"),
        (HEADER + GOOD_ENTRY.replace("Sep 28 2", "Sep 28 99999999999"), 7,
         "'upvotes' is 99999999999, outside"),
    ],
)
def test_a_malformed_page_is_reported_with_file_and_line(tmp_path, body, line, message):
    path = _write(tmp_path, body)
    with pytest.raises(pages.PageFormatError) as excinfo:
        pages.read_pages(path)
    assert excinfo.value.line == line
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith(f"{path}:{line}:")


@pytest.mark.django_db
def test_a_malformed_file_imports_nothing_but_good_files_still_import(tmp_path, capsys):
    good = _write(tmp_path, HEADER + GOOD_ENTRY, "good.txt")
    bad = _write(tmp_path, HEADER + GOOD_ENTRY + "\nSecond Title\n\nAnother abstract, long enough.\n\n  • 2 authors\n·\nSept 1\n", "bad.txt")
    with pytest.raises(CommandError):
        call_command("import_pages", str(bad), str(good))
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "nothing imported" in err
    assert list(Paper.objects.values_list("title", flat=True)) == ["A Title"]


@pytest.mark.django_db
def test_a_binary_or_missing_file_is_a_clear_error(tmp_path, capsys):
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError):
        call_command("import_pages", str(binary), str(tmp_path / "missing.txt"))
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "no such file" in err
    assert not Paper.objects.exists()


def test_html_in_a_saved_page_stays_text(tmp_path):
    path = _write(tmp_path, HEADER + GOOD_ENTRY.replace("A Title", "<script>alert(1)</script> Title"))
    [record] = pages.read_pages(path)
    assert record.title == "<script>alert(1)</script> Title"
