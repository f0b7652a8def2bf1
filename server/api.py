"""The small HTTP API next to the socket: `GET /api/results`."""

from __future__ import annotations

from aiohttp import web

from server.protocol import RESULTS_ADAPTER
from server.websocket import SETTINGS, STORE


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


#: The most a `POST /api/request-size` body may be: enough for any message the page sends.
MAX_MEASURED_BODY = 64 * 1024


async def request_size_handler(request: web.Request) -> web.Response:
    """`POST /api/request-size`: how many bytes of HTTP framing the request itself took.

    The page sends the same number of bytes it just sent as one WebSocket message, and shows the
    two side by side. Counted from what arrived: the request line and every header line as the
    browser sent them (names, values, ": " and CRLF), plus the blank line that ends them. The body
    is read and counted, never stored.
    """
    body = await request.content.read(MAX_MEASURED_BODY + 1)
    if len(body) > MAX_MEASURED_BODY:
        raise web.HTTPRequestEntityTooLarge(MAX_MEASURED_BODY, len(body))
    version = f"HTTP/{request.version.major}.{request.version.minor}"
    request_line = len(f"{request.method} {request.raw_path} {version}\r\n".encode())
    headers = sum(len(name) + 2 + len(value) + 2 for name, value in request.raw_headers)
    return web.json_response(
        {"header_bytes": request_line + headers + 2, "body_bytes": len(body)},
        headers={"Cache-Control": "no-store"},
    )
