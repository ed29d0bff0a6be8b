"""The thumbnail worker against a loopback server serving real PDFs (and bad answers)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.utils import timezone
from PIL import Image

from paperfeed.papers.tests.factories import paper
from paperfeed.sources.testing import Reply
from paperfeed.thumbnails import storage, worker
from paperfeed.thumbnails.models import Thumbnail

pytestmark = pytest.mark.django_db
PDF = "application/pdf"


def today() -> dt.date:
    return timezone.now().date()


def feed_paper(**overrides):
    return paper(feed_date=overrides.pop("feed_date", today()), **overrides)


def state(p) -> Thumbnail:
    return Thumbnail.objects.get(paper=p)


def test_it_renders_page_one_of_a_feed_paper_as_a_small_webp(pdf_server, polite, paper_pdf):
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))

    assert worker.run_once(client=polite) == {"done": 1}

    row = state(p)
    assert (row.state, row.reason, row.attempts, row.pdf_size) == ("done", "", 1, len(paper_pdf))
    assert row.source_url == f"{pdf_server.url}/pdf/{p.arxiv_id}"
    image = Image.open(io.BytesIO(bytes(row.image)))
    # A4 at 320 px wide; the page's dark text really was drawn (not a blank page).
    assert (image.format, image.size) == ("WEBP", (320, 453)) == ("WEBP", (row.width, row.height))
    darkest = image.convert("L").getextrema()[0]
    assert darkest < 80
    assert storage.cache_path(row.digest).read_bytes() == bytes(row.image)
    assert len(row.image) < 40_000
    assert pdf_server.count(f"/pdf/{p.arxiv_id}") == 1
    assert pdf_server.requests[0].headers["User-Agent"].startswith("paperfeed/")
    # Done is done: the next round fetches nothing.
    assert worker.run_once(client=polite) == {}
    assert len(pdf_server.requests) == 1


def test_only_papers_of_the_recent_feed_are_ever_fetched(pdf_server, polite, paper_pdf,
                                                         monkeypatch):
    monkeypatch.setenv("PAPERFEED_THUMBNAIL_DAYS", "3")
    recent = feed_paper(feed_date=today() - dt.timedelta(days=3))
    old = feed_paper(feed_date=today() - dt.timedelta(days=4))
    undated = paper(feed_date=None)
    no_pdf = feed_paper(arxiv_id=None, pdf_url="")
    for p in (recent, old, undated):
        pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))

    assert worker.run_once(client=polite) == {"done": 1}

    assert [r.path for r in pdf_server.requests] == [f"/pdf/{recent.arxiv_id}"]
    assert list(Thumbnail.objects.values_list("paper_id", flat=True)) == [recent.pk]
    assert not Thumbnail.objects.filter(paper__in=[old, undated, no_pdf]).exists()


def test_a_paper_without_an_arxiv_id_is_fetched_from_its_own_pdf_link(pdf_server, polite,
                                                                       paper_pdf):
    p = feed_paper(arxiv_id=None, pdf_url=f"{pdf_server.url}/files/paper.pdf")
    pdf_server.add("/files/paper.pdf", Reply(200, paper_pdf, content_type=PDF))
    assert worker.run_once(client=polite) == {"done": 1}
    assert state(p).source_url.endswith("/files/paper.pdf")


def _fails_for_good(pdf_server, polite, p, *reason_parts: str) -> Thumbnail:
    assert worker.run_once(client=polite) == {"failed": 1}
    row = state(p)
    assert row.state == "failed" and row.attempts == 1 and not row.digest, row.reason
    for part in reason_parts:
        assert part in row.reason
    # Permanent: never fetched again, even long after.
    fetched = len(pdf_server.requests)
    with time_machine.travel(timezone.now() + dt.timedelta(days=7)):
        assert worker.run_once(client=polite) == {}
    assert len(pdf_server.requests) == fetched
    return row


def test_an_answer_that_is_not_a_pdf_fails_for_good_saying_what_came(pdf_server, polite):
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, "<!DOCTYPE html><p>Paper not found",
                                               content_type="text/html"))
    _fails_for_good(pdf_server, polite, p, "not a PDF", "text/html", "<!DOCTYPE html",
                    f"/pdf/{p.arxiv_id}")


def test_a_404_fails_for_good(pdf_server, polite):
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(404, "not here", content_type="text/plain"))
    _fails_for_good(pdf_server, polite, p, "HTTP 404", f"/pdf/{p.arxiv_id}")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_200_mb_pdf_is_abandoned_early_and_fails_for_good(pdf_server, polite, declared):
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, content_type=PDF,
                                               stream_size=200 * 1024 * 1024,
                                               content_length=declared))
    row = _fails_for_good(pdf_server, polite, p, "PDF too large", "over 30 MB",
                          "PAPERFEED_THUMBNAIL_MAX_PDF_MB")
    if declared:  # refused on the header, before reading any of the body
        assert "209,715,200 bytes (Content-Length)" in row.reason
        assert row.pdf_size == 200 * 1024 * 1024
    else:
        assert "more than 30,000,000 bytes" in row.reason and "abandoned" in row.reason


def test_the_size_limit_is_a_setting(pdf_server, polite, paper_pdf, monkeypatch):
    monkeypatch.setenv("PAPERFEED_THUMBNAIL_MAX_PDF_MB", "0")
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))
    _fails_for_good(pdf_server, polite, p, "over 0 MB")


def test_a_password_protected_pdf_fails_for_good(pdf_server, polite, locked_pdf):
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, locked_pdf, content_type=PDF))
    _fails_for_good(pdf_server, polite, p, "password-protected")


def test_a_damaged_pdf_fails_for_good(pdf_server, polite, paper_pdf):
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf[:400], content_type=PDF))
    _fails_for_good(pdf_server, polite, p, "PDFium cannot read the PDF")


def test_a_page_over_the_pixel_cap_is_not_rendered(pdf_server, polite, paper_pdf, monkeypatch):
    monkeypatch.setenv("PAPERFEED_THUMBNAIL_MAX_PIXELS", "100000")
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))
    _fails_for_good(pdf_server, polite, p, "320x453 px", "100,000-pixel cap")


def test_a_render_that_takes_too_long_is_killed_and_retried(pdf_server, polite, paper_pdf,
                                                            monkeypatch):
    monkeypatch.setenv("PAPERFEED_THUMBNAIL_RENDER_TIMEOUT", "0")
    p = feed_paper()
    pdf_server.add(f"/pdf/{p.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))
    assert worker.run_once(client=polite) == {"retry": 1}
    assert "took longer than 0 s" in state(p).reason


def test_server_errors_are_retried_with_back_off_then_given_up(pdf_server, polite, paper_pdf,
                                                               monkeypatch):
    monkeypatch.setenv("PAPERFEED_THUMBNAIL_MAX_ATTEMPTS", "3")
    p = feed_paper()
    route = f"/pdf/{p.arxiv_id}"
    pdf_server.add(route, Reply(503, "busy", content_type="text/plain"))
    start = timezone.now()
    assert worker.run_once(client=polite) == {"retry": 1}
    row = state(p)
    assert row.state == "retry" and "giving up after 2 attempts (HTTP 503)" in row.reason
    assert dt.timedelta(seconds=1790) < row.next_attempt_at - start < dt.timedelta(seconds=1810)
    assert worker.run_once(client=polite) == {}  # backing off: not yet
    assert pdf_server.count(route) == 2  # the client's own retry, nothing more
    # 30 minutes later, the second attempt; then the wait doubles.
    with time_machine.travel(start + dt.timedelta(minutes=31)):
        assert worker.run_once(client=polite) == {"retry": 1}
    row = state(p)
    assert row.attempts == 2
    assert row.next_attempt_at - start > dt.timedelta(minutes=31 + 59)
    with time_machine.travel(start + dt.timedelta(minutes=95)):
        assert worker.run_once(client=polite) == {"failed": 1}
    row = state(p)
    assert row.state == "failed" and "gave up after 3 attempts" in row.reason
    with time_machine.travel(start + dt.timedelta(days=10)):
        pdf_server.add(route, Reply(200, paper_pdf, content_type=PDF))
        assert worker.run_once(client=polite) == {}
    assert pdf_server.count(route) == 6


def test_a_retry_that_succeeds_renders_the_thumbnail(pdf_server, polite, paper_pdf):
    p = feed_paper()
    route = f"/pdf/{p.arxiv_id}"
    pdf_server.add(route, Reply(503, "", headers={"Retry-After": "0"}),
                   Reply(200, paper_pdf, content_type=PDF))
    assert worker.run_once(client=polite) == {"done": 1}  # the client's retry got it
    assert state(p).state == "done"


def test_a_claimed_paper_is_not_claimed_again_until_its_lease_runs_out(pdf_server):
    p = feed_paper()
    worker.enqueue(timezone.now())
    first = worker.claim_next("host-a:1")
    assert first.paper_id == p.pk
    assert worker.claim_next("host-b:2") is None
    later = timezone.now() + worker.LEASE + dt.timedelta(seconds=1)
    second = worker.claim_next("host-b:2", now=later)
    assert second.paper_id == p.pk and second.attempts == 2
    # The first worker, back from the dead, cannot overwrite the new owner's row.
    worker._finish(first, "host-a:1", state="done")
    assert state(p).state == "working" and state(p).claimed_by == "host-b:2"


def test_hidden_papers_are_not_fetched(pdf_server, polite, paper_pdf):
    from paperfeed.papers.models import Paper

    p = feed_paper()
    Paper.objects.filter(pk=p.pk).update(status=Paper.Status.HIDDEN)
    assert worker.run_once(client=polite) == {}
    assert pdf_server.requests == []


# transaction: the command closes stale connections, as a long-running process must, which
# would close the test's connection inside its rollback-only transaction.
@pytest.mark.django_db(transaction=True)
def test_the_command_runs_once_and_reports_failures_with_their_reason(pdf_server, paper_pdf,
                                                                      monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setenv("PAPERFEED_SOURCES_DELAY", "0")
    good, bad = feed_paper(), feed_paper()
    pdf_server.add(f"/pdf/{good.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))
    pdf_server.add(f"/pdf/{bad.arxiv_id}", Reply(404, "no", content_type="text/plain"))
    out = StringIO()
    call_command("thumbnails", stdout=out)
    lines = out.getvalue().splitlines()
    assert f"paper {bad.pk}: failed — {pdf_server.url}/pdf/{bad.arxiv_id}: HTTP 404" in lines
    assert lines[-2:] == ["thumbnails: done 1, failed 1", "thumbnails: done"]
    out = StringIO()
    call_command("thumbnails", "--status", stdout=out)
    assert out.getvalue().splitlines() == [
        "pending 0, working 0, done 1, retry 0, failed 1",
        f"paper {bad.pk}: failed after 1 attempt(s) — {pdf_server.url}/pdf/{bad.arxiv_id}: "
        "HTTP 404"]


@pytest.mark.parametrize(("name", "raw"), [
    ("PAPERFEED_THUMBNAIL_MAX_PDF_MB", "-1"), ("PAPERFEED_THUMBNAIL_WIDTH", "0"),
    ("PAPERFEED_THUMBNAIL_RENDER_TIMEOUT", "nan"), ("PAPERFEED_THUMBNAIL_DAYS", "two weeks"),
    ("PAPERFEED_THUMBNAIL_MAX_ATTEMPTS", "0"),
])
def test_a_bad_limit_stops_the_worker_naming_the_setting(pdf_server, polite, monkeypatch,
                                                         name, raw):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv(name, raw)
    feed_paper()
    with pytest.raises(ImproperlyConfigured, match=f"{name}={raw!r} is not a valid"):
        worker.run_once(client=polite)
    assert pdf_server.requests == []


def test_a_malformed_pdf_link_fails_for_good_and_the_others_go_on(pdf_server, polite, paper_pdf):
    broken = [feed_paper(arxiv_id=None, pdf_url=url)
              for url in ("http://[::1/paper.pdf", "http://exa mple.org/paper.pdf")]
    fine = feed_paper()
    pdf_server.add(f"/pdf/{fine.arxiv_id}", Reply(200, paper_pdf, content_type=PDF))
    assert worker.run_once(client=polite) == {"done": 1, "failed": 2}
    for p in broken:
        row = state(p)
        assert row.state == "failed" and "not a valid URL" in row.reason
        assert p.pdf_url in row.reason
