"""The small HTTP API next to the socket: `GET /api/results`, a page at a time.

`?limit=N` (at most `results_limit`) results, newest first, as a JSON array; when older ones
remain, a `Link: <...?before=CURSOR...>; rel="next"` header says where they are. The body is
bounded too (`results_body_bytes`): a page of big results holds fewer of them. Encoding runs on
a worker thread, so a page of megabytes never stalls the event loop (every socket's pings), and
a stored row that cannot be encoded any more is skipped and logged once, never a 500 for all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import urlencode

from aiohttp import web

from server.engines import StorageError
from server.protocol import StoredResult
from server.state import SETTINGS, STORE

log = logging.getLogger(__name__)


class BadRows:
    """Logs the first stored row that cannot be served, and counts the rest (no log flood)."""

    def __init__(self) -> None:
        self.count = 0

    def skip(self, result: StoredResult, exc: Exception) -> None:
        self.count += 1
        if self.count == 1:
            log.warning(
                "skipping stored result %r: it cannot be encoded as JSON (%s); "
                "further such rows are skipped silently",
                result.id.encode("utf-8", "backslashreplace").decode(),
                exc,
            )


BAD_ROWS = BadRows()


def encode_results(
    results: Sequence[StoredResult], room: int, at_least_one: bool
) -> tuple[list[bytes], int]:
    """Encode results, in order, while they fit in `room` bytes (commas included).

    Returns:
        The encoded results, and how many of `results` were consumed (encoded, or skipped as
        unservable); fewer than all when the next one did not fit.
    """
    parts: list[bytes] = []
    consumed = 0
    for result in results:
        try:
            encoded = result.model_dump_json().encode("utf-8")
        except (ValueError, RecursionError) as exc:
            # Rows stored before the door checked for lone surrogates and depth.
            BAD_ROWS.skip(result, exc)
            consumed += 1
            continue
        if len(encoded) + 1 > room and (parts or not at_least_one):
            break
        parts.append(encoded)
        room -= len(encoded) + 1
        consumed += 1
    return parts, consumed


#: The largest integer a query parameter may be: SQLite's (a cursor is a row id, a 64-bit int).
MAX_QUERY_INT = 2**63 - 1


def query_int(request: web.Request, name: str, default: int | None) -> int | None:
    """An optional non-negative integer query parameter (400 with one sentence otherwise)."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_QUERY_INT:
        raise web.HTTPBadRequest(
            text=f"{name} must be a non-negative integer, at most {MAX_QUERY_INT}.\n"
        )
    return int(raw)


async def results_handler(request: web.Request) -> web.Response:
    """One page of stored results, newest first (see the module's docstring)."""
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    limit = min(query_int(request, "limit", settings.results_limit) or 0, settings.results_limit)
    cursor = query_int(request, "before", None)
    loop = asyncio.get_running_loop()
    parts: list[bytes] = []
    room = settings.results_body_bytes - 2
    taken = 0
    try:
        while True:
            # A few rows at a time: a page of big results is full long before `limit` of them.
            want = min(limit - taken, FETCH_ROWS)
            page = await store.page(want, cursor)
            encoded, consumed = await loop.run_in_executor(
                None, encode_results, page.results, room, not parts
            )
            parts.extend(encoded)
            room -= sum(len(e) + 1 for e in encoded)
            taken += want
            if consumed < len(page.results):
                # The body is full: ask again for just what was sent, for a cursor right after it.
                cursor = (await store.page(consumed, cursor)).next_before if consumed else cursor
                break
            cursor = page.next_before
            if cursor is None or taken >= limit:
                break
    except StorageError as exc:  # Redis away: say so, and that it is worth trying again
        raise web.HTTPServiceUnavailable(text=f"{exc}\n", headers={"Retry-After": "2"}) from None
    headers = {}
    if cursor is not None and limit:
        after = urlencode({"limit": limit, "before": cursor})
        headers["Link"] = f'<{request.path}?{after}>; rel="next"'
    body = b"[" + b",".join(parts) + b"]"
    return web.Response(body=body, content_type="application/json", headers=headers)


#: Rows read from the store per step while filling a page.
FETCH_ROWS = 25


#: The most a `POST /api/request-size` body may be: enough for any message the page sends.
MAX_MEASURED_BODY = 64 * 1024


async def request_size_handler(request: web.Request) -> web.Response:
    """`POST /api/request-size`: how many bytes of HTTP framing the request itself took.

    The page sends the same number of bytes it just sent as one WebSocket message, and shows the
    two side by side. Counted from what arrived: the request line and every header line as the
    browser sent them (names, values, ": " and CRLF), plus the blank line that ends them. The body
    is read and counted, never stored.
    """
    # Every part, to the end: one read() returns what has arrived, which for a body sent in
    # parts (chunked, or written twice) is only the first.
    body = b""
    while part := await request.content.read(MAX_MEASURED_BODY + 1 - len(body)):
        body += part
        if len(body) > MAX_MEASURED_BODY:
            raise web.HTTPRequestEntityTooLarge(MAX_MEASURED_BODY, len(body))
    version = f"HTTP/{request.version.major}.{request.version.minor}"
    request_line = len(f"{request.method} {request.raw_path} {version}\r\n".encode())
    headers = sum(len(name) + 2 + len(value) + 2 for name, value in request.raw_headers)
    return web.json_response(
        {"header_bytes": request_line + headers + 2, "body_bytes": len(body)},
        headers={"Cache-Control": "no-store"},
    )
