"""The load benchmark's own parts that need neither a big corpus nor a long run: reading
wrk's output, the request mix wrk runs, the verdicts against issue 14's targets, what
the soak reads off a page and checks in the database."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading

import pytest
from django.contrib.auth import get_user_model

from paperfeed.deploy import bench, loadcorpus, loadreport, soak, wrk
from paperfeed.deploy.tests.argcheck import assert_refused

# Real wrk 4.1 output, captured on this machine (a static file; a missing path; a server
# slower than --timeout).
WRK_OK = """Running 1s test @ http://127.0.0.1:18777/a.txt
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    24.98ms   47.22ms 270.14ms   88.91%
    Req/Sec   451.53    437.37     1.70k    88.24%
  Latency Distribution
     50%    3.06ms
     75%   26.03ms
     90%   77.81ms
     99%  238.01ms
  793 requests in 1.05s, 145.59KB read
Requests/sec:    757.89
Transfer/sec:    139.14KB
"""
WRK_404 = """Running 2s test @ http://127.0.0.1:18777/missing
  2 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    23.93ms   54.16ms 432.92ms   91.50%
    Req/Sec   277.09    293.31     1.12k    84.85%
  Latency Distribution
     50%    4.01ms
     75%   18.66ms
     90%   61.00ms
     99%  288.74ms
  966 requests in 2.10s, 490.73KB read
  Non-2xx or 3xx responses: 966
Requests/sec:    459.51
Transfer/sec:    233.43KB
"""
WRK_TIMEOUTS = """Running 3s test @ http://127.0.0.1:18778/a.txt
  2 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   633.67ms  308.98ms 945.33ms   66.67%
    Req/Sec     2.50      1.18     4.00     70.00%
  Latency Distribution
     50%  628.25ms
     75%  945.33ms
     90%  945.33ms
     99%    1.20s
  10 requests in 3.05s, 1.84KB read
  Socket errors: connect 0, read 0, write 0, timeout 7
Requests/sec:      3.28
Transfer/sec:     616.16B
"""


def test_wrk_output_is_read():
    ok = wrk.parse_wrk(WRK_OK)
    assert ok == {"rps": 757.89, "requests": 793, "p50_ms": 3.06, "p99_ms": 238.01,
                  "socket_errors": 0, "timeouts": 0, "non_2xx": 0}
    assert wrk.parse_wrk(WRK_404)["non_2xx"] == 966
    slow = wrk.parse_wrk(WRK_TIMEOUTS)
    assert (slow["socket_errors"], slow["timeouts"]) == (7, 7)
    assert slow["p99_ms"] == 1200.0 and slow["p50_ms"] == 628.25


def test_what_is_not_wrk_output_is_refused_clearly():
    with pytest.raises(ValueError, match="not wrk output"):
        wrk.parse_wrk("unable to connect to 127.0.0.1:18778 Connection refused")


def _row(page, rps, p99=50.0, signed_in=0.0, clients=200, errors=0):
    return {"page": page, "rps": rps, "p99_ms": p99, "signed_in": signed_in,
            "clients": clients, "socket_errors": errors, "non_2xx": 0}


@pytest.mark.parametrize(("row", "met", "asked"), [
    (_row("daily", 1000), True, "≥0.40×, 0 errors"),
    # At saturation p99 is the queue: the paced runs judge it.
    (_row("daily", 1000, p99=150), True, "≥0.40×, 0 errors"),
    (_row("trending", 900), False, "≥0.40×, 0 errors"),
    (_row("weekly", 700, p99=900, signed_in=0.1), True, "≥0.25×, 0 errors"),
    (_row("paper", 500, p99=2000), True, "≥0.20×, 0 errors"),
    (_row("search", 120), False, "≥0.05×, 0 errors"),
    (_row("search", 130, p99=2900), True, "≥0.05×, 0 errors"),
    (_row("daily", 2000, errors=1), False, "≥0.40×, 0 errors"),
    (_row("daily", 10, clients=10), None, "0 errors"),
    (_row("daily", 10, clients=10, errors=3), False, "0 errors"),
    (_row("api", 10), None, "0 errors"),
])
def test_rows_are_judged_against_the_issues_targets(row, met, asked):
    assert loadreport.verdict(row, 2500.0) == (met, asked)


def _paced(page, asked, achieved, p99, errors=0):
    return {**_row(page, achieved, p99=p99, errors=errors), "asked_rps": asked, "ratio": 0.4,
            "p50_ms": p99 / 3, "load": "1.0 / 1.0"}


@pytest.mark.parametrize(("row", "met"), [
    (_paced("daily", 2000, 1990, 40), True),
    (_paced("daily", 2000, 1990, 101), False),
    (_paced("trending", 2000, 1890, 40), False),  # the rate not held: not its latency
    (_paced("daily", 2000, 1990, 40, errors=1), False),
    (_paced("search", 250, 249, 280), True),
    (_paced("search", 250, 249, 320), False),
    (_paced("static", 2000, 1990, 400), None),  # the baseline, not judged
])
def test_paced_runs_are_judged_against_the_latency_targets(row, met):
    ok, asked = loadreport.paced_verdict(row)
    assert ok is met
    if met is not None:
        assert asked.startswith(f"p99≤{300 if row['page'] == 'search' else 100} ms, rate held")


def test_the_pacing_spreads_the_rate_over_threads_and_connections():
    assert wrk.thread_period_ms(2000, 2) == 1.0
    assert wrk.thread_period_ms(250, 1) == 4.0
    assert wrk.connection_delay_ms(2000, 200) == 100.0
    for bad in ({"rate": 0, "threads": 2}, {"rate": float("nan"), "threads": 2},
                {"rate": 10, "threads": 0}):
        with pytest.raises(ValueError, match="pacing needs a rate above 0"):
            wrk.thread_period_ms(**bad)
    assert "local period = 1.0\n" in wrk.pacing_lua(2000, 2)
    assert "delay = function" not in wrk.lua_script(["/a"], 0.0, [])
    assert "delay = function" in wrk.lua_script(["/a"], 0.0, [], rate=100, threads=2)


def test_a_paced_run_holds_or_misses_its_rate():
    assert wrk.held(2000, 1900) and wrk.held(2000, 2400)
    assert not wrk.held(2000, 1899)


def test_the_paced_plan_puts_the_static_file_at_each_rate_first():
    plan = wrk.paced_plan(["static", "daily", "paper", "search", "weekly", "api"],
                          loadreport.LATENCY_RATIOS, 5000.0)
    assert plan == [("static", 0.4, 2000.0), ("daily", 0.4, 2000.0),
                    ("static", 0.05, 250.0), ("search", 0.05, 250.0), ("weekly", 0.4, 2000.0)]
    assert wrk.paced_plan(["static", "paper", "api"], loadreport.LATENCY_RATIOS, 5000.0) == []


def test_a_row_without_a_static_baseline_is_not_judged():
    assert loadreport.verdict(_row("daily", 1000), None) == (None, "no static baseline")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.seen.append((self.path, self.headers.get("Cookie"),
                          self.headers.get("Accept-Encoding")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (apt-get install wrk)")
def test_wrk_runs_the_mix_with_gzip_and_several_members(tmp_path):
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = tmp_path / "mix.lua"
        paths = ["/papers", "/papers/2501.00001", "/papers/search?q=dark+matter"]
        script.write_text(wrk.lua_script(paths, 0.5, ["sessionid=one", "sessionid=two"]))
        out = subprocess.run(["wrk", "-t1", "-c2", "-d1s", "-s", str(script),
                              f"http://127.0.0.1:{server.server_port}"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        server.shutdown()
    seen = _Recorder.seen
    done = wrk.parse_wrk(out)["requests"]
    assert done > 50 and 0 <= len(seen) - done <= 2  # wrk leaves out those still in flight
    assert {path for path, _, _ in seen} == set(paths)
    assert {encoding for _, _, encoding in seen} == {"gzip, deflate, br"}
    cookies = [cookie for _, cookie, _ in seen]
    assert set(cookies) == {None, "sessionid=one", "sessionid=two"}
    assert 0.3 < cookies.count(None) / len(cookies) < 0.7


class _KeepAlive(_Recorder):
    protocol_version = "HTTP/1.1"  # as the site's server: one connection, many requests
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except ConnectionError:  # wrk hangs up on whatever is in flight when it stops
            self.close_connection = True


class _Backlog(http.server.ThreadingHTTPServer):
    # The standard library listens with a backlog of 5: of 200 connections opened at
    # once, some would wait out a SYN retry (1 s) and start late.
    request_queue_size = 1024


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (apt-get install wrk)")
@pytest.mark.parametrize(("clients", "rate"), [(10, 100.0), (200, 200.0)])
def test_wrk_paced_holds_the_asked_rate(tmp_path, clients, rate):
    _KeepAlive.seen = []
    server = _Backlog(("127.0.0.1", 0), _KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        got = wrk.run(f"http://127.0.0.1:{server.server_port}", ["/papers", "/papers/trending"],
                      clients, 3, 0.0, [], tmp_path, rate=rate)
    finally:
        server.shutdown()
    # A saturating run against this server answers thousands a second: pacing holds
    # it near the asked rate, neither over it nor (on a machine this idle) under it.
    assert got["asked_rps"] == rate
    assert 0.9 * rate <= got["rps"] <= 1.1 * rate, got
    assert 0.85 * rate * 3 <= len(_KeepAlive.seen) <= 1.15 * rate * 3
    assert got["socket_errors"] == got["non_2xx"] == 0


def test_the_probe_reads_the_count_a_listing_shows(client, db):
    from paperfeed.papers.tests.factories import paper

    top = paper(upvotes=1234, title="The most upvoted")
    other = paper(upvotes=3, title="Another one")
    html = client.get("/papers/date/2025-01-15").content.decode()
    assert soak.listed_pks(html) == [top.pk, other.pk]
    assert soak.count_on_page(html, top.pk) == 1234
    assert soak.count_on_page(html, other.pk) == 3
    assert soak.count_on_page(html, 999_999) is None


def test_the_soak_check_finds_what_is_missing(db, django_capture_on_commit_callbacks):
    from paperfeed.community.comments import post_comment
    from paperfeed.community.votes import set_vote
    from paperfeed.papers.tests.factories import paper

    member = get_user_model().objects.create_user("reader7", "r7@example.org", "pw-12345678")
    voted, unvoted = paper(), paper()
    with django_capture_on_commit_callbacks(execute=True):
        set_vote(member, voted, True)
        post_comment(member, voted, "A soak comment (soak-run1-0-1): reading this under load.")
    expected = {"run": "run1", "votes": {"reader7": {str(voted.pk): True, str(unvoted.pk): False}},
                "comments": ["soak-run1-0-1"], "ingest_ids": [voted.arxiv_id]}
    found = loadcorpus.check_soak(expected)
    assert found["votes_wrong"] == found["comments_missing"] == found["ingest_missing"] == 0
    assert found["vote_counter_mismatches"] == found["comment_counter_mismatches"] == 0
    expected["votes"]["reader7"][str(unvoted.pk)] = True  # the site said yes, no row
    expected["comments"].append("soak-run1-0-2")
    expected["ingest_ids"].append("2501.99999")
    found = loadcorpus.check_soak(expected)
    assert (found["votes_wrong"], found["comments_missing"], found["ingest_missing"]) == (1, 1, 1)


def _soak_result(**changes):
    result = {"writes_failed": 0, "reads": {"socket_errors": 0, "non_2xx": 0},
              "ingest": {"exit": 0}, "digest": {"exit": 0},
              "check": {"votes_wrong": 0, "comments_missing": 0, "comments_unexpected": 0,
                        "ingest_missing": 0, "vote_counter_mismatches": 0,
                        "comment_counter_mismatches": 0}}
    for key, value in changes.items():
        outer, _, inner = key.partition("__")
        if inner:
            result[outer] = {**result[outer], inner: value}
        else:
            result[outer] = value
    return result


@pytest.mark.parametrize("failure", [
    {"writes_failed": 1}, {"reads__socket_errors": 2}, {"reads__non_2xx": 1},
    {"ingest__exit": 1}, {"digest__exit": 1}, {"check__votes_wrong": 1},
    {"reads": {"socket_errors": 0, "non_2xx": 0, "asked_rps": 200, "rps": 189}},
    {"check__comment_counter_mismatches": 1},
])
def test_any_failure_fails_the_soak(failure):
    assert loadreport.soak_passed(_soak_result())
    assert loadreport.soak_passed(_soak_result(reads={"socket_errors": 0, "non_2xx": 0,
                                                      "asked_rps": 200, "rps": 191}))
    assert not loadreport.soak_passed(_soak_result(**failure))


def test_the_report_has_verdicts_the_soak_and_the_votes_shown():
    rows = [{"page": "static", "signed_in": 0.0, "clients": 200, "load": "1.0 / 1.0",
             **wrk.parse_wrk(WRK_OK)},
            {"page": "daily", "signed_in": 0.0, "clients": 200, "load": "1.0 / 1.0",
             "cache_hits": 90, "cache_misses": 10, **wrk.parse_wrk(WRK_OK)},
            {**_paced("static", 303.2, 301.0, 12.5), "signed_in": 0.0},
            {**_paced("daily", 303.2, 302.0, 238.0), "signed_in": 0.0}]
    probe = {"votes": 3, "shown": 3, "p50_s": 0.2, "max_s": 1.4, "wait_p50_s": 0.5,
             "wait_max_s": 2.0, "unseen": 0, "errors": [], "bound_s": 1.0}
    soak_result = {**_soak_result(), "seconds": 60, "rate": 4.0, "clients": 50, "votes_ok": 9,
                   "comments_ok": 2, "failures": [], "cache": {"hits": 5, "misses": 7},
                   "probe": probe,
                   "ingest": {"exit": 0, "seconds": 30, "summary": "kaggle: new 10", "papers": 10},
                   "digest": {"exit": 0, "seconds": 20, "summary": "sent 5", "due": 5,
                              "sink_received": 5},
                   "check": {**_soak_result()["check"], "votes_checked": 9,
                             "digest_ledger": {"sent": 5}}}
    targets = {"paper": ["/papers/1"], "queries": ["dark matter"], "cookies": ["s=1"]}
    options = {"papers": 20000, "duration": 10, "soak": 60, "warmup": 5, "paced_duration": 15}
    text = loadreport.report(options, {"papers": 20000}, rows, soak_result, targets,
                         {"probe": probe, "clients": 200, "reads": {"rps": 700}})
    # Throughput from the saturating run, latency from the paced one.
    assert "| daily | 0% | 200 | 758 | 1.00 | 3.1 | 238.0 | 0 | 90% | ≥0.40×, 0 errors | ✓ |" in text
    assert ("| daily | 200 | 0.40 | 303 | 302 | 79.3 | 238.0 | 12.5 | 0 | p99≤100 ms, rate held "
            "≥95%, 0 errors | **✗** |") in text
    assert "| static | 200 | 0.40 | 303 | 301 | 4.2 | 12.5 |  | 0 |  |  |" in text
    assert "coordinated omission" in text and "--paced-duration 15" in text
    assert "Targets met: 1, missed: 1." in text
    assert "Soak (60 s) — **passed**" in text and "9 votes and 2 comments accepted" in text
    assert "at 50 clients (0 requests/s, saturating" in text
    assert text.count("— **not** within the documented bound") == 2  # max 1.4 s > 1 s
    assert "(granian, a process per core" in text and "--server" not in text


def test_another_server_is_named_in_the_report_and_its_reproduce_line():
    rows = [{"page": "static", "signed_in": 0.0, "clients": 200, "load": "1.0 / 1.0",
             **wrk.parse_wrk(WRK_OK)}]
    options = {"papers": 20000, "duration": 10, "soak": 0, "warmup": 5, "paced_duration": 0,
               "server": "gunicorn"}
    text = loadreport.report(options, {"papers": 20000}, rows, None,
                             {"paper": [], "queries": ["dark matter"], "cookies": []})
    assert "(gunicorn gthread, a process per core" in text
    assert text.count("--server gunicorn`") == 2  # the heading and the reproduce line


def test_the_report_says_when_latency_was_not_judged():
    rows = [{"page": "static", "signed_in": 0.0, "clients": 200, "load": "1.0 / 1.0",
             **wrk.parse_wrk(WRK_OK)}]
    options = {"papers": 20000, "duration": 10, "soak": 0, "warmup": 5, "paced_duration": 0}
    text = loadreport.report(options, {"papers": 20000}, rows, None,
                             {"paper": [], "queries": ["dark matter"], "cookies": []})
    assert "No paced runs" in text and "the latency targets were not judged" in text


@pytest.mark.parametrize("argv, message", [
    (["--papers", "-5"], "'-5' is not a whole number of 1 or more"),
    (["--paced-duration", "-1"], "'-1' is not a whole number of 0 or more"),
    (["--clients", "10", "0"], "'0' is not a whole number of 1 or more"),
    (["--soak", "ten"], "'ten' is not a whole number of 0 or more"),
    (["--signed-in", "1.5"], "'1.5' is not a share from 0 to 1"),
    (["--soak-rate", "nan"], "'nan' is not a number above 0"),
    (["--soak-read-rate", "0"], "'0' is not a number above 0"),
    (["--soak-read-rate", "many"], "'many' is not a number above 0"),
    (["--server", "nginx"], "argument --server: invalid choice: 'nginx'"),
])
def test_arguments_out_of_range_are_refused_by_name(argv, message, capsys):
    assert_refused(bench.add_arguments, "paperfeed bench load", argv, message, capsys)


def test_the_vote_probe_sums_up_what_it_timed():
    probe = soak.Probe(delays=[0.3, 0.1, 0.2], waits=[0.5, 0.4, 0.6], unseen=1,
                       errors=[f"e{n}" for n in range(7)], polls=40)
    summary = probe.summary(1.0)
    assert (summary["votes"], summary["shown"], summary["unseen"]) == (4, 3, 1)
    assert (summary["p50_s"], summary["max_s"], summary["wait_max_s"]) == (0.2, 0.3, 0.6)
    assert summary["errors"] == ["e0", "e1", "e2", "e3", "e4"] and summary["bound_s"] == 1.0
    assert soak.Probe().summary(None)["max_s"] is None  # nothing timed: no figure, no error
