"""What `paperfeed serve` tells its server (the end-to-end test is test_behind_nginx.py)."""

from __future__ import annotations

import os

import pytest
from django.core.management import CommandError, call_command

from paperfeed import servers


def test_without_a_proxy_neither_server_trusts_forwarded_headers():
    assert servers.gunicorn_options("127.0.0.1", 8000, 2, 8, 0)["forwarded_allow_ips"] == ""
    waitress = servers.waitress_options("127.0.0.1", 8000, 8, 0)
    assert "trusted_proxy" not in waitress and waitress["clear_untrusted_proxy_headers"]


def test_behind_proxies_both_servers_trust_the_same_count():
    assert servers.gunicorn_options("127.0.0.1", 8000, 2, 8, 2)["forwarded_allow_ips"] == "*"
    waitress = servers.waitress_options("127.0.0.1", 8000, 8, 2)
    assert (waitress["trusted_proxy"], waitress["trusted_proxy_count"]) == ("*", 2)
    assert waitress["trusted_proxy_headers"] == {"x-forwarded-for", "x-forwarded-proto"}


def test_every_server_takes_hundreds_of_connections():
    assert servers.gunicorn_options("h", 1, 2, 8, 0)["worker_connections"] >= 500
    assert servers.waitress_options("h", 1, 8, 0)["connection_limit"] >= 500
    granian = servers.granian_options("h", 1, 2, 4)
    assert granian["backlog"] >= 500 and granian["backpressure"] >= 500


def test_granian_runs_the_warmed_application_in_each_worker():
    from granian.server import Server

    options = servers.granian_options("127.0.0.1", 8000, 2, 4)
    assert (options["target"], options["factory"]) == ("paperfeed.servers:granian_application", True)
    assert (options["workers"], options["blocking_threads"]) == (2, 4)
    Server(**options)  # every option is one granian takes


def test_the_server_environment_stays_out_of_requests_but_their_own_values_stay():
    seen = {}

    def application(environ, start_response):
        seen.update(environ)
        return [b""]

    served = servers.without_server_environment(application, {
        "DATABASE_URL": "postgres://user:secret@db/site", "PAPERFEED_SECRET_KEY": "s3cret",
        "PATH": "/usr/bin", "SERVER_NAME": "build-host", "HTTP_PROXY": "http://proxy:3128"})
    served({"DATABASE_URL": "postgres://user:secret@db/site", "PAPERFEED_SECRET_KEY": "s3cret",
            "PATH": "/usr/bin", "SERVER_NAME": "example.org", "PATH_INFO": "/papers",
            "HTTP_PROXY": "sent by the client", "HTTP_HOST": "example.org",
            "wsgi.url_scheme": "https"}, None)
    assert seen == {"SERVER_NAME": "example.org", "PATH_INFO": "/papers",
                    "HTTP_PROXY": "sent by the client", "HTTP_HOST": "example.org",
                    "wsgi.url_scheme": "https"}


def test_serve_refuses_zero_workers_or_threads():
    with pytest.raises(CommandError, match="--workers and --threads must be at least 1"):
        # waitress: the gunicorn path would set up metrics folders in this test process.
        call_command("serve", server="waitress", workers=0, skip_checks=True)


def test_a_worker_warms_search_and_freezes_what_it_loaded_before_serving(tmp_path):
    import subprocess
    import sys

    code = ("import django, gc; django.setup()\n"
            "from paperfeed import servers; from paperfeed.search import service\n"
            "assert gc.get_freeze_count() == 0\n"
            "servers.warm_up()\n"
            "print(gc.get_freeze_count(), len(service._engines))\n")
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "paperfeed.settings",
           "PAPERFEED_DATA_DIR": str(tmp_path), "PAPERFEED_LOG_LEVEL": "INFO"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    frozen, engines = map(int, done.stdout.split())
    assert frozen > 50_000 and engines == 1  # Django and the app, out of the collector's way
    assert "search: warmed up in" in done.stderr
