"""The client behind each request: its address, and the per-address cap for proxied requests.

The one place the client address is decided. A middleware sets `request.remote` to it (the TCP
peer, or behind a `--trusted-proxy` the forwarded client: `server/proxy.py`), so every
per-address limit downstream (connections, jobs, stored bytes) counts students, not the proxy.

Connections from a direct client are capped per address when the TCP connection opens
(`server/guard.py`), before any header is read. A trusted proxy's connections are exempt from
that cap (they carry many students) and its requests are counted here instead, per forwarded
address, while they are open: a socket is one request for its whole life.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from server.guard import RateLimitedLog
from server.proxy import TrustedProxies

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_middleware(
    trusted: TrustedProxies, per_address: int
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware giving each request its client's address (`request.remote`).

    Args:
        trusted: the proxies whose forwarding headers are believed.
        per_address: how many requests one forwarded client may have open at once; beyond it,
            503 with `Retry-After`, as a direct client over its connection cap gets.
    """
    open_requests: dict[str, int] = {}
    refused = RateLimitedLog(
        f"refused %d proxied request(s) over the cap ({per_address} per forwarded address) "
        "in the last interval"
    )

    @web.middleware
    async def name_the_client(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.remote or ""
        if not trusted.trusts(peer):
            return await handler(request)
        client = trusted.client_of(
            peer,
            request.headers.getall(hdrs.X_FORWARDED_FOR, []),
            request.headers.getall(hdrs.FORWARDED, []),
        )
        if open_requests.get(client, 0) >= per_address:
            refused.event()
            return web.Response(
                status=503,
                text="Too many connections: try again shortly.\n",
                headers={"Retry-After": "5"},
            )
        open_requests[client] = open_requests.get(client, 0) + 1
        try:
            return await handler(request.clone(remote=client))
        finally:
            left = open_requests[client] - 1
            if left:
                open_requests[client] = left
            else:
                del open_requests[client]

    return name_the_client
