from __future__ import annotations

import datetime as dt
import gzip
import io

import orjson
import pytest

from paperfeed.papers.models import Paper, PaperVersion
from paperfeed.sources import kaggle

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(fixtures):
    return fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"


def test_it_streams_a_snapshot_in_batches(snapshot):
    result = kaggle.ingest_file(snapshot, batch_size=64)
    assert (result.lines, result.stats.new, result.errors) == (200, 200, [])
    paper = Paper.objects.get(arxiv_id="0704.0001")
    assert paper.title.startswith("Calculation of prompt diphoton production")
    assert paper.authors[0] == "C. Balázs"
    assert paper.latest_version == 2 and paper.published_on == dt.date(2007, 4, 2)
    assert paper.updated_on == dt.date(2008, 11, 26)
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert list(paper.versions.values_list("version", flat=True)) == [1, 2]
    assert Paper.objects.in_category("hep-ph").filter(pk=paper.pk).exists()


def test_a_second_import_changes_nothing(snapshot):
    kaggle.ingest_file(snapshot)
    again = kaggle.ingest_file(snapshot)
    assert (again.stats.new, again.stats.updated, again.stats.skipped) == (0, 0, 200)


def test_gzip_is_read_transparently(snapshot, tmp_path):
    packed = tmp_path / "snapshot.json.gz"
    packed.write_bytes(gzip.compress(snapshot.read_bytes()))
    assert kaggle.ingest_file(packed).stats.new == 200


def test_bad_lines_are_reported_with_their_number_and_the_rest_imports(snapshot, caplog):
    lines = snapshot.read_bytes().splitlines(keepends=True)[:5]
    lines.insert(2, b'{"id": "0704.0001", "title": \n')  # a line cut short
    lines.insert(4, b'{"id": "not-an-id", "title": "x"}\n')
    result = kaggle.ingest_stream(io.BytesIO(b"".join(lines)), name="dump.json")
    assert result.stats.new == 5
    assert [e.split(":")[1] for e in result.errors] == ["3", "5"]
    assert "dump.json:3: invalid JSON" in caplog.text
    assert "dump.json:5: 'not-an-id' is not an arXiv id" in caplog.text


@pytest.mark.parametrize("workers", [0, 1])
def test_lines_of_the_wrong_shape_are_bad_lines_not_a_crash(snapshot, workers):
    """Valid JSON, wrong types: each is reported and skipped; the rest imports."""
    good = snapshot.read_bytes().splitlines(keepends=True)[:3]
    row = orjson.loads(good[0])
    wrong = [{"versions": "v1"}, {"versions": ["v1"]}, {"categories": ["cs.LG"]},
             {"title": ["a list"]}, {"abstract": {"an": "object"}}, {"doi": 5},
             {"authors": 5, "authors_parsed": None}, {"id": 704.0001}, [1, 2]]
    lines = [orjson.dumps({**row, **change} if isinstance(change, dict) else change) + b"\n"
             for change in wrong]
    # Odd but meaningful: author name parts that are numbers are kept as text.
    lines.append(orjson.dumps({**row, "id": "0704.9997", "authors_parsed": [["Li", 7]]}))
    result = kaggle.ingest_stream(io.BytesIO(b"".join([*good, *lines])), name="dump.json",
                                  workers=workers)
    assert result.stats.new == 4
    assert [e.split(": ", 1)[1] for e in result.errors] == [
        "'versions' is not a list of objects", "'versions' is not a list of objects",
        "'categories' is a JSON list, not text", "'title' is a JSON list, not text",
        "'abstract' is a JSON object, not text", "'doi' is a number, not text",
        "'authors' is a number, not text", "'id' is a number, not text",
        "expected a JSON object"]
    assert Paper.objects.get(arxiv_id="0704.9997").authors == ["7 Li"]


def test_two_snapshot_versions_merge_versions(fixtures):
    for name in ("sharath", "wanng-ide"):
        kaggle.ingest_file(fixtures / f"kaggle-snapshot/{name}_arxiv-metadata-oai-snapshot_first200.jsonl")
    assert Paper.objects.count() == 200
    assert PaperVersion.objects.filter(paper__arxiv_id="0704.0001").count() == 2


def test_the_progress_bar_counts_the_whole_file(snapshot, capsys):
    kaggle.ingest_file(snapshot, progress=True)
    err = capsys.readouterr().err
    assert snapshot.name in err and "100%" in err


@pytest.mark.parametrize("workers", [0, 1])
def test_a_value_longer_than_its_column_is_a_bad_line_on_every_backend(snapshot, workers):
    """PostgreSQL refused these with a DataError that stopped the import at that line;
    SQLite stored them. Now both report the line and store the same rest."""
    good = snapshot.read_bytes().splitlines(keepends=True)[:3]
    row = orjson.loads(good[0])
    long = [{"categories": "hep-ph " + "a" * 40}, {"doi": "10.1000/" + "x" * 295},
            {"license": "http://" + "l" * 300}, {"title": "T" * 5_000, "id": "0704.9998"},
            {"versions": [{"version": "v" + "9" * 30, "created": ""}]}]
    lines = [orjson.dumps({**row, **change}) + b"\n" for change in long]
    result = kaggle.ingest_stream(io.BytesIO(b"".join([*good, *lines])), name="dump.json",
                                  workers=workers)
    assert [e.split(": ", 1)[0] for e in result.errors] == ["dump.json:4", "dump.json:5",
                                                             "dump.json:6", "dump.json:8"]
    says = ["category 'aaaa", "'doi' is 303 characters, longer than the 200",
            "'license' is 307 characters, longer than the 200",
            "'version' is 9999999999…(30 digits), outside 0..2147483647"]
    assert all(error.split(": ", 1)[1].startswith(start)
               for error, start in zip(result.errors, says, strict=True)), result.errors
    # A 5,000-character title is text (no limit); its matching key is cut to its column.
    assert result.stats.new == 4
    assert len(Paper.objects.get(arxiv_id="0704.9998").title) == 5_000
