"""What `paperfeed serve` tells its server (the end-to-end test is test_behind_nginx.py)."""

from __future__ import annotations

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


def test_both_servers_take_hundreds_of_connections():
    assert servers.gunicorn_options("h", 1, 2, 8, 0)["worker_connections"] >= 500
    assert servers.waitress_options("h", 1, 8, 0)["connection_limit"] >= 500


def test_serve_refuses_zero_workers_or_threads():
    with pytest.raises(CommandError, match="--workers and --threads must be at least 1"):
        # waitress: the gunicorn path would set up metrics folders in this test process.
        call_command("serve", server="waitress", workers=0, skip_checks=True)
