from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory, override_settings

from paperfeed.lib.forwarded import client_address, forwarded_client


def test_without_a_proxy_the_socket_address_counts_and_the_header_is_ignored():
    assert forwarded_client("192.0.2.1", "203.0.113.7", 0) == "192.0.2.1"
    assert forwarded_client("", "", 0) == "unknown"


def test_behind_n_proxies_it_takes_the_nth_entry_from_the_right():
    chain = "198.51.100.66, 203.0.113.7, 10.0.0.2"  # client-written, client, first proxy
    assert forwarded_client("10.0.0.3", chain, 1) == "10.0.0.2"
    assert forwarded_client("10.0.0.3", chain, 2) == "203.0.113.7"
    assert forwarded_client("10.0.0.3", "203.0.113.7", 1) == "203.0.113.7"


def test_addresses_with_ports_and_brackets_are_normalised():
    assert forwarded_client("10.0.0.3", "192.0.2.5:4711", 1) == "192.0.2.5"
    assert forwarded_client("10.0.0.3", "[2001:DB8::1]:443", 1) == "2001:db8::1"
    assert forwarded_client("10.0.0.3", "2001:db8::1", 1) == "2001:db8::1"


@pytest.mark.parametrize("header", ["not-an-address", "unknown", "999.1.1.1", "1.2.3.4 5.6.7.8"])
def test_an_entry_that_is_not_an_address_falls_back_to_the_peer_saying_why(header, caplog):
    with caplog.at_level(logging.WARNING, logger="paperfeed.proxy"):
        assert forwarded_client("10.0.0.3", header, 1) == "10.0.0.3"
    assert "X-Forwarded-For entry 1 from the right" in caplog.text
    assert "PAPERFEED_PROXY_COUNT" in caplog.text


def test_fewer_entries_than_proxies_never_reaches_into_client_written_ones(caplog):
    with caplog.at_level(logging.WARNING, logger="paperfeed.proxy"):
        assert forwarded_client("10.0.0.3", "203.0.113.7", 2) == "10.0.0.3"
    assert "fewer than PAPERFEED_PROXY_COUNT=2 entries" in caplog.text
    # No header at all (someone reached the app port directly): the peer, quietly.
    assert forwarded_client("10.0.0.3", "", 1) == "10.0.0.3"


def test_client_address_reads_the_setting_from_a_request():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.3",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    with override_settings(PROXY_COUNT=0):
        assert client_address(request) == "10.0.0.3"
    with override_settings(PROXY_COUNT=1):
        assert client_address(request) == "203.0.113.7"
        assert client_address(request.META) == "203.0.113.7"
