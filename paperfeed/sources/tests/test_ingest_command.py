"""``paperfeed ingest``, run as a person would, against the replay server."""

from __future__ import annotations

import gzip
import io

import pytest
from django.core.management import CommandError, call_command

from paperfeed.papers.models import Paper
from paperfeed.sources.testing import Reply, serve_oai_harvest, split_list_records

pytestmark = pytest.mark.django_db
FIRST_CS = "verb=ListRecords&metadataPrefix=arXiv&set=cs"


def ingest(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest", *args, "--delay", "0", stdout=out)
    return out.getvalue()


def test_arxiv_api_by_id_prints_a_summary(server, fixtures):
    for exchange in (fixtures / "arxiv-api").glob("id_*.json"):
        server.add_exchange(exchange)
    out = ingest("arxiv-api", "--id", "1605.08386",
                 "--base-url", server.url + "/api/query")
    assert out.strip().endswith("arxiv-api: fetched 1 / new 1 / updated 0 / skipped 0")


def test_arxiv_api_malformed_id_is_a_usage_error(server):
    with pytest.raises(CommandError, match="argument --id: 'abc' is not an arXiv id") as error:
        ingest("arxiv-api", "--id", "1605.08386", "abc", "--base-url", server.url + "/api/query")
    assert error.value.returncode == 2
    assert server.requests == []


def test_arxiv_oai_resumes_after_a_failed_run(server, fixtures, monkeypatch):
    monkeypatch.setenv("PAPERFEED_SOURCES_MAX_RETRIES", "1")
    xml = (fixtures / "arxiv-oai/invenio_listrecords_arXiv_cs.xml").read_text()
    pages = split_list_records(xml, per_page=20)
    serve_oai_harvest(server, "verb=ListRecords&metadataPrefix=arXiv&set=cs", pages)
    server.add("/oai?verb=ListRecords&resumptionToken=6960524%7C21",
               Reply(503, headers={"Retry-After": "0"}), Reply(503, headers={"Retry-After": "0"}),
               Reply(200, pages[1]))
    with pytest.raises(CommandError, match="giving up after 2 attempts") as error:
        ingest("arxiv-oai", "--set", "cs", "--base-url", server.url + "/oai")
    assert error.value.returncode == 1 and Paper.objects.count() == 20
    out = ingest("arxiv-oai", "--set", "cs", "--base-url", server.url + "/oai")
    assert "fetched 26 / new 26 / updated 0 / skipped 0 / deleted 0 / pages 2 (resumed)" in out
    assert Paper.objects.count() == 46


def test_arxiv_rss_several_categories(server, fixtures):
    for cat in ("ai", "lg"):
        server.add_file(f"/rss/cs.{cat.upper()}", fixtures / f"arxiv-rss/distill_arxiv_cs_{cat}.xml")
    out = ingest("arxiv-rss", "--category", "cs.AI", "cs.LG", "--base-url", server.url + "/rss")
    assert "cs.AI (2026-04-27): 3 announcements" in out
    assert out.strip().splitlines()[-1].startswith("arxiv-rss: fetched 6 / new ")


def test_hf_daily_for_a_date(server, fixtures):
    server.add_file("/api/daily_papers?date=2026-07-31&limit=100&p=0",
                    fixtures / "hf-api/personalnewsfeed_hf_daily_papers.json")
    out = ingest("hf-daily", "--date", "2026-07-31", "--base-url", server.url + "/api")
    assert out.strip().endswith("hf-daily: fetched 30 / new 30 / updated 0 / skipped 0")


def test_hf_daily_rejects_a_bad_week():
    with pytest.raises(CommandError, match="not an ISO week") as error:
        ingest("hf-daily", "--week", "31")
    assert error.value.returncode == 2


def test_kaggle_file_and_mirror(server, fixtures):
    snapshot = fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
    out = ingest("kaggle", str(snapshot), "--no-progress")
    assert out.strip().endswith("kaggle: fetched 200 / new 200 / updated 0 / skipped 0 / lines 200")
    server.add_file("/dumps/snapshot.json", snapshot, content_type="application/json")
    out = ingest("kaggle", "snapshot.json", "--base-url", server.url + "/dumps/")
    assert "fetched 200 / new 0 / updated 0 / skipped 200" in out


def test_kaggle_truncated_download_is_an_error(server, fixtures):
    snapshot = fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
    server.add("/snapshot.json", Reply(200, snapshot.read_bytes(), truncate_at=10_000))
    with pytest.raises(CommandError) as error:
        ingest("kaggle", "snapshot.json", "--base-url", server.url)
    assert error.value.returncode == 1


def test_kaggle_missing_file():
    with pytest.raises(CommandError, match="no such file") as error:
        ingest("kaggle", "/nonexistent/snapshot.json")
    assert error.value.returncode == 2


def test_kaggle_download_cut_at_a_line_end_is_an_error_that_says_so(server, fixtures):
    """Every line that arrived is whole JSON: only the Content-Length tells it is short."""
    body = (fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
            ).read_bytes()
    cut = body.index(b"\n", len(body) // 2) + 1
    arrived = body[:cut].count(b"\n")
    server.add("/snapshot.json", Reply(200, body, truncate_at=cut))
    out = io.StringIO()
    with pytest.raises(CommandError, match=rf"/snapshot.json: the input broke off after line "
                                           rf"{arrived} \(.*body cut short: {cut:,} of "
                                           rf"{len(body):,} bytes") as error:
        call_command("ingest", "kaggle", "snapshot.json", "--base-url", server.url,
                     "--delay", "0", stdout=out)
    assert error.value.returncode == 1
    assert f"kaggle: fetched {arrived} / new {arrived} /" in out.getvalue()
    assert Paper.objects.count() == arrived  # what arrived before the break is kept


def test_kaggle_mirror_waits_out_a_503_with_retry_after(server, fixtures, monkeypatch):
    snapshot = fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
    server.add("/snapshot.json", Reply(503, headers={"Retry-After": "0"}),
               Reply(200, snapshot.read_bytes()))
    out = ingest("kaggle", "snapshot.json", "--base-url", server.url)
    assert "fetched 200 / new 200" in out and server.count("/snapshot.json") == 2


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_damaged_gzip_snapshot_imports_what_came_before_and_says_how_far(fixtures, tmp_path,
                                                                          damage):
    body = (fixtures / "kaggle-snapshot/sharath_arxiv-metadata-oai-snapshot_first200.jsonl"
            ).read_bytes()
    packed = bytearray(gzip.compress(body))
    if damage == "truncated":
        packed = packed[: len(packed) * 2 // 3]
        says = r"EOFError: Compressed file ended before the end-of-stream marker"
    else:
        packed[len(packed) // 2: len(packed) // 2 + 64] = b"\xff" * 64
        says = r"(error|BadGzipFile): "
    path = tmp_path / "snapshot.json.gz"
    path.write_bytes(bytes(packed))
    out = io.StringIO()
    with pytest.raises(CommandError, match=rf"snapshot.json.gz: the input broke off after line "
                                           rf"[\d,]+ \({says}") as error:
        call_command("ingest", "kaggle", str(path), "--no-progress", "--batch-size", "10",
                     stdout=out)
    assert error.value.returncode == 1
    stored = Paper.objects.count()
    assert 10 <= stored < 200 and f"new {stored} /" in out.getvalue()
    lines = int(str(error.value).split("after line ")[1].split(" ")[0].replace(",", ""))
    read = len(b"".join(body.splitlines(keepends=True)[:lines]))
    assert f"the {lines:,} lines ({read:,} bytes) before it were read" in str(error.value)


def test_arxiv_oai_reports_rejected_records_and_the_rejected_command_lists_them(server,
                                                                                fixtures):
    xml = (fixtures / "arxiv-oai/invenio_listrecords_arXiv_cs.xml").read_text()
    pages = split_list_records(xml, per_page=20)
    pages[1] = pages[1].replace("<id>1501.03549</id>", "<id>bad</id>", 1)
    serve_oai_harvest(server, FIRST_CS, pages)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 record\(s\) could not be read and were skipped; "
                                           r"`paperfeed rejected` lists them") as error:
        call_command("ingest", "arxiv-oai", "--set", "cs", "--base-url", server.url + "/oai",
                     "--delay", "0", stdout=out)
    assert error.value.returncode == 1
    assert "fetched 45 / new 45 / updated 0 / skipped 0 / deleted 0 / pages 3 / rejected 1" \
        in out.getvalue()
    listing = io.StringIO()
    call_command("rejected", stdout=listing)
    lines = listing.getvalue().splitlines()
    assert lines[-1] == "1 rejected record(s)"
    row_id, _, source, identifier, message = lines[0].split("\t")
    assert (source, identifier) == ("arxiv-oai", "oai:arXiv.org:1501.03549")
    assert message.endswith("record 2: record with unexpected arXiv id 'bad'")
    shown = io.StringIO()
    call_command("rejected", "--show", row_id, stdout=shown)
    assert "<id>bad</id>" in shown.getvalue()
    with pytest.raises(CommandError, match="no rejected record 999") as error:
        call_command("rejected", "--show", "999")
    assert error.value.returncode == 2
    cleared = io.StringIO()
    call_command("rejected", "--clear", stdout=cleared)
    assert cleared.getvalue() == "forgot 1 rejected record(s)\n"


@pytest.mark.parametrize("source, route, args, recorded", [
    ("hf-daily", "/api/daily_papers?date=2026-07-31&limit=100&p=0",
     ["--date", "2026-07-31", "--base-url", "{url}/api"],
     "hf-api/personalnewsfeed_hf_daily_papers.json"),
    ("arxiv-rss", "/rss/cs.AI", ["--category", "cs.AI", "--base-url", "{url}/rss"],
     "arxiv-rss/distill_arxiv_cs_ai.xml"),
    ("arxiv-oai", "/oai?" + FIRST_CS, ["--set", "cs", "--base-url", "{url}/oai"],
     "arxiv-oai/invenio_listrecords_arXiv_cs.xml"),
])
def test_every_source_refuses_a_body_cut_short_at_a_line_end(server, fixtures, monkeypatch,
                                                            source, route, args, recorded):
    monkeypatch.setenv("PAPERFEED_SOURCES_MAX_RETRIES", "1")
    body = (fixtures / recorded).read_bytes()
    cut = (body.find(b"\n", len(body) // 2) + 1) or len(body) // 2  # HF's JSON is one line
    server.add(route, Reply(200, body, truncate_at=cut))
    with pytest.raises(CommandError, match=rf"giving up after 2 attempts \(body cut short: "
                                           rf"{cut:,} of {len(body):,} bytes\)") as error:
        ingest(source, *[a.format(url=server.url) for a in args])
    assert error.value.returncode == 1 and not Paper.objects.exists()


def test_every_network_read_goes_through_the_polite_client():
    """One client holds the politeness, the limits and the short-body check."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[2]
    direct = re.compile(r"\burlopen\(|^\s*import (requests|httpx)\b|^\s*from (requests|httpx)\b"
                        r"|http\.client\.HTTPS?Connection\(", re.M)
    # Not sources: the load benchmark (and its soak's members) talk to the paperfeed
    # server it started on loopback.
    not_sources = {"deploy/bench.py", "deploy/soak.py"}
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                 if "tests" not in path.parts and path.name not in ("http.py", "testing.py")
                 and str(path.relative_to(package)) not in not_sources
                 and direct.search(path.read_text())]
    assert offenders == []
