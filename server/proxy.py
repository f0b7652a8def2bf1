"""Who the client is behind a reverse proxy: `--trusted-proxy` and the forwarding headers (no I/O).

Every per-address limit counts `request.remote`. Without a trusted proxy that is the TCP peer,
and the forwarding headers are ignored: any client can write `X-Forwarded-For: 10.9.8.7`, so
believing it would let one client pose as many (and slip every per-address cap). When the peer
is a proxy the server was told to trust, the client is the right-most address in
`X-Forwarded-For` that is not itself a trusted proxy: each proxy appends the address it got the
request from, so the entries a trusted proxy wrote are to the right, and whatever the client
wrote itself is to the left of them, never read. `Forwarded` (RFC 7239) is read the same way,
but only when there is no `X-Forwarded-For` (see `client_of`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """An IP address or CIDR block, e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`.

    Raises:
        ValueError: one sentence naming the bad value.
    """
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"--trusted-proxy {text} is not an IP address or a CIDR block (e.g. 10.0.0.0/8)"
        ) from None


def ip_of(entry: str) -> str | None:
    """The address in one forwarding entry (`1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `"[::1]"`)."""
    entry = entry.strip().strip('"')
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]  # IPv4 with a port; a bare IPv6 has several colons
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None  # "unknown", an obfuscated "_hidden" name, or garbage


def forwarded_for(values: Iterable[str]) -> list[str]:
    """The `for=` entries of `Forwarded` header values, in order (RFC 7239)."""
    entries = []
    for value in values:
        for element in value.split(","):
            for pair in element.split(";"):
                name, _, found = pair.partition("=")
                if name.strip().lower() == "for":
                    entries.append(found)
    return entries


class TrustedProxies:
    """The `--trusted-proxy` addresses and blocks, and the client address they vouch for."""

    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def parse(cls, values: Iterable[str]) -> TrustedProxies:
        """From `--trusted-proxy` values (raises ValueError as `parse_network` does)."""
        return cls(parse_network(value) for value in values)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        """Whether a TCP peer (or a forwarding entry) is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d
        return any(ip in network for network in self.networks)

    def client_of(self, peer: str, x_forwarded_for: Sequence[str], forwarded: Sequence[str]) -> str:
        """The client's address for a request that came from `peer`.

        Args:
            peer: the TCP peer's address.
            x_forwarded_for: every `X-Forwarded-For` header value, in order.
            forwarded: every `Forwarded` header value, in order; read only when there is no
                `X-Forwarded-For`, because a proxy that writes one of them passes the other on
                as the client sent it (nginx's `$proxy_add_x_forwarded_for` leaves `Forwarded`
                alone), and a client-written header must never be read.

        Returns:
            `peer` itself unless it is a trusted proxy; else the right-most forwarded address
            that is not a trusted proxy, or the left-most one if all of them are. An entry that
            is not an address (`unknown`, garbage) stops the walk: the peer is the answer then,
            since nothing to its left can be vouched for.
        """
        if not self.trusts(peer):
            return peer
        if x_forwarded_for:
            entries = [e for value in x_forwarded_for for e in value.split(",")]
        else:
            entries = forwarded_for(forwarded)
        client = peer
        for entry in reversed(entries):
            address = ip_of(entry)
            if address is None:
                return peer
            client = address
            if not self.trusts(address):
                return client
        return client
