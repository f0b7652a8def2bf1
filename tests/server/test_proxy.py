"""Whose address a request carries: the TCP peer, or behind a trusted proxy the forwarded client."""

from __future__ import annotations

import pytest

from server.proxy import TrustedProxies, forwarded_for, ip_of, parse_network

PROXY = TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8"])


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert PROXY.client_of("203.0.113.9", ["198.51.100.1"], ["for=198.51.100.2"]) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_address() -> None:
    # The client wrote 6.6.6.6 itself; the outer proxy (10.1.1.1) appended the real client.
    header = ["6.6.6.6, 198.51.100.7, 10.1.1.1"]
    assert PROXY.client_of("127.0.0.1", header, []) == "198.51.100.7"


def test_several_x_forwarded_for_headers_read_as_one_list_in_order() -> None:
    assert PROXY.client_of("127.0.0.1", ["6.6.6.6", "198.51.100.7"], []) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_only_yields_its_left_most_address() -> None:
    assert PROXY.client_of("127.0.0.1", ["10.0.0.5, 10.0.0.6"], []) == "10.0.0.5"


@pytest.mark.parametrize("header", [["unknown"], ["not an address"], [""]])
def test_an_entry_that_is_not_an_address_leaves_the_peer(header: list[str]) -> None:
    assert PROXY.client_of("127.0.0.1", header, []) == "127.0.0.1"


def test_no_forwarding_header_from_a_trusted_proxy_leaves_the_peer() -> None:
    assert PROXY.client_of("127.0.0.1", [], []) == "127.0.0.1"


def test_forwarded_is_read_when_there_is_no_x_forwarded_for() -> None:
    header = ['for=6.6.6.6, for="[2001:db8::17]:4711";proto=https;by=10.0.0.1']
    assert PROXY.client_of("127.0.0.1", [], header) == "2001:db8::17"


def test_forwarded_is_ignored_when_x_forwarded_for_is_there() -> None:
    # The proxy wrote X-Forwarded-For; a Forwarded header came from the client, untouched.
    assert PROXY.client_of("127.0.0.1", ["198.51.100.7"], ["for=6.6.6.6"]) == "198.51.100.7"


def test_an_ipv4_peer_on_a_dual_stack_socket_is_trusted_by_its_ipv4_address() -> None:
    assert PROXY.trusts("::ffff:127.0.0.1")
    assert not PROXY.trusts("::ffff:192.0.2.1")


@pytest.mark.parametrize(
    ("entry", "address"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 192.0.2.1:5000", "192.0.2.1"),
        ("[2001:db8::1]:80", "2001:db8::1"),
        ('"[2001:db8::1]"', "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("_hidden", None),
    ],
)
def test_a_forwarding_entry_s_address(entry: str, address: str | None) -> None:
    assert ip_of(entry) == address


def test_forwarded_for_collects_every_for_parameter() -> None:
    assert forwarded_for(["For=a;proto=http, by=x;for=b", "for=c"]) == ["a", "b", "c"]


def test_a_bad_trusted_proxy_is_one_sentence() -> None:
    with pytest.raises(ValueError, match="not an IP address or a CIDR block"):
        parse_network("proxy.example")
