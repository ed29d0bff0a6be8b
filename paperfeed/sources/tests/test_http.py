from __future__ import annotations

import logging

import pytest

from paperfeed.sources.http import (
    FetchError,
    InvalidURLError,
    LimitError,
    PoliteClient,
    TooLargeError,
)
from paperfeed.sources.testing import Reply


def test_it_waits_the_configured_delay_between_requests(server, client, fake_time):
    server.add("/a", Reply(200, "one"))
    server.add("/b", Reply(200, "two"))
    assert client.get(server.url + "/a").text == "one"
    assert client.get(server.url + "/b").text == "two"
    assert fake_time.sleeps == [3.0]


def test_it_does_not_wait_when_the_delay_already_passed(server, client, fake_time):
    server.add("/a", Reply(200, "one"))
    client.get(server.url + "/a")
    fake_time.now += 10
    client.get(server.url + "/a")
    assert fake_time.sleeps == []


def test_it_honours_retry_after_on_503(server, client, fake_time):
    server.add("/oai", Reply(503, "busy", headers={"Retry-After": "17"}), Reply(200, "ok"))
    assert client.get(server.url + "/oai").text == "ok"
    assert server.count("/oai") == 2
    # The Retry-After wait, then nothing more: 17 s already exceed the 3 s delay.
    assert fake_time.sleeps == [17.0]


def test_it_backs_off_exponentially_without_retry_after(server, client, fake_time):
    server.add("/x", Reply(500), Reply(502), Reply(200, "fine"))
    assert client.get(server.url + "/x").text == "fine"
    assert fake_time.sleeps == [3.0, 6.0]


def test_a_5xx_storm_gives_up_with_a_clear_log_line(server, client, fake_time, caplog):
    server.add("/x", Reply(503, "down", headers={"Retry-After": "5"}))
    with caplog.at_level(logging.ERROR, logger="paperfeed.sources"):
        with pytest.raises(FetchError) as error:
            client.get(server.url + "/x")
    assert error.value.status == 503
    assert server.count("/x") == 4  # the first try and max_retries=3 retries
    assert "giving up after 4 attempts (HTTP 503)" in caplog.text


def test_a_truncated_body_is_retried(server, client):
    server.add("/x", Reply(200, "0123456789" * 100, truncate_at=50), Reply(200, "whole"))
    assert client.get(server.url + "/x").text == "whole"


def test_4xx_answers_go_back_to_the_caller_unretried(server, client):
    server.add("/x", Reply(400, "bad id"))
    response = client.get(server.url + "/x")
    assert (response.status, response.text) == (400, "bad id")
    assert server.count("/x") == 1


def test_it_sends_a_descriptive_user_agent(server, fake_time, settings, monkeypatch):
    monkeypatch.setenv("PAPERFEED_SOURCES_CONTACT", "mailto:ops@example.org")
    client = PoliteClient(delay=0, clock=fake_time.clock, sleep=fake_time.sleep)
    server.add("/x", Reply(200))
    client.get(server.url + "/x", {"q": "a b"})
    agent = server.requests[0].headers["User-Agent"]
    assert agent.startswith("paperfeed/") and "mailto:ops@example.org" in agent
    assert server.requests[0].query == {"q": ["a b"]}


def test_an_unreachable_server_is_a_fetch_error(client):
    # Port 9 on loopback (discard) is closed here: the connection is refused.
    with pytest.raises(FetchError, match="giving up"):
        client.get("http://127.0.0.1:9/")


def test_a_429_rate_limit_waits_as_told_then_succeeds(server, client, fake_time):
    server.add("/api/daily_papers", Reply(429, "slow down", headers={"Retry-After": "60"}),
               Reply(429, "slow down", headers={"Retry-After": "120"}), Reply(200, "[]"))
    assert client.get(server.url + "/api/daily_papers").text == "[]"
    assert fake_time.sleeps == [60.0, 120.0]


def test_a_body_cut_short_at_a_line_end_is_never_taken_for_the_whole(server, client):
    """The connection ends cleanly after a whole line, before the promised length."""
    body = b"".join(b'{"id": "%d"}\n' % n for n in range(100))
    server.add("/x", Reply(200, body, truncate_at=body.index(b"\n", 500) + 1))
    with pytest.raises(FetchError, match=r"giving up after 4 attempts \(body cut short: "
                                         r"\d+ of 1,290 bytes\)"):
        client.get(server.url + "/x")


def test_a_dripping_server_hits_the_deadline_and_the_error_names_it(server, fake_time):
    dripping = PoliteClient(delay=0, max_retries=3, timeout=5, deadline=0.5,
                            clock=fake_time.clock, sleep=fake_time.sleep)
    server.add("/slow", Reply(200, b"x" * 1000, drip=(0.1, 1)))
    with pytest.raises(LimitError, match=r"/slow: no complete response within "
                                         r"PAPERFEED_HTTP_DEADLINE \(0.5 s; \d+ bytes"):
        dripping.get(server.url + "/slow")
    assert server.count("/slow") == 1  # a limit is not retried


@pytest.mark.parametrize("content_length", [True, False])
def test_a_body_over_the_size_cap_is_refused_naming_the_limit(server, fake_time,
                                                              content_length):
    capped = PoliteClient(delay=0, max_retries=3, timeout=5, max_bytes=100_000,
                          clock=fake_time.clock, sleep=fake_time.sleep)
    server.add("/huge", Reply(200, b"y" * 1_000_000, content_length=content_length))
    with pytest.raises(LimitError, match=r"/huge: the response is .*PAPERFEED_HTTP_MAX_BYTES "
                                         r"\(100,000"):
        capped.get(server.url + "/huge")
    server.add("/fits", Reply(200, b"z" * 100_000, content_length=content_length))
    assert len(capped.get(server.url + "/fits").body) == 100_000


def test_the_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("PAPERFEED_HTTP_DEADLINE", "7.5")
    monkeypatch.setenv("PAPERFEED_HTTP_MAX_BYTES", "1234")
    client = PoliteClient()
    assert (client.deadline, client.max_bytes) == (7.5, 1234)


def test_a_stream_waits_out_a_503_and_reports_a_short_body_where_it_ends(server, client,
                                                                        fake_time):
    body = b"line\n" * 1000
    server.add("/dump", Reply(503, headers={"Retry-After": "11"}),
               Reply(200, body, truncate_at=2000))
    with client.stream(server.url + "/dump") as stream:
        lines = []
        with pytest.raises(FetchError, match=r"/dump: body cut short: 2,000 of 5,000 bytes"):
            lines.extend(stream)
    assert len(lines) == 400 and fake_time.sleeps == [11.0]


def test_a_whole_stream_reads_to_the_end(server, client):
    server.add("/dump", Reply(200, b"a\nb\n" * 50_000))
    with client.stream(server.url + "/dump") as stream:
        assert sum(1 for _ in stream) == 100_000


def test_a_stream_that_never_starts_is_a_fetch_error(server, client):
    server.add("/dump", Reply(404, "no such file"))
    with pytest.raises(FetchError, match="/dump: HTTP 404"):
        with client.stream(server.url + "/dump"):
            pass


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_body_over_max_bytes_is_abandoned_unretried(server, client, declared):
    server.add("/big", Reply(200, stream_size=50_000_000, content_length=declared))
    with pytest.raises(TooLargeError, match="over the .*limit|over the limit") as caught:
        client.get(server.url + "/big", max_bytes=1_000_000)
    assert server.count("/big") == 1
    assert caught.value.size == (50_000_000 if declared else None)


def test_a_body_within_max_bytes_is_read_whole(server, client):
    server.add("/small", Reply(200, b"x" * 1000))
    assert client.get(server.url + "/small", max_bytes=1000).body == b"x" * 1000
    server.add("/missing", Reply(404, b"y" * 5000))
    assert client.get(server.url + "/missing", max_bytes=1000).body == b"y" * 1000


@pytest.mark.parametrize("url", ["http://[::1/x.pdf", "http://exa mple.org/x.pdf",
                                 "http://127.0.0.1:99999/x"])
def test_a_malformed_url_is_an_invalid_url_error_at_once(client, url):
    with pytest.raises(InvalidURLError, match="not a valid URL") as caught:
        client.get(url)
    assert isinstance(caught.value, FetchError) and caught.value.url == url
