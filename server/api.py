"""The small HTTP API next to the socket: `GET /api/results`."""

from __future__ import annotations

from aiohttp import web

from server.protocol import RESULTS_ADAPTER
from server.state import SETTINGS, STORE


async def results_handler(request: web.Request) -> web.Response:
    """The stored results, newest first; `?limit=N` asks for fewer than the server's bound."""
    bound = request.app[SETTINGS].results_limit
    try:
        limit = int(request.query.get("limit", bound))
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be an integer.\n") from None
    limit = max(0, min(limit, bound))
    results = await request.app[STORE].recent(limit)
    return web.Response(
        body=RESULTS_ADAPTER.dump_json(results),
        content_type="application/json",
    )
