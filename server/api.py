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


def encode_page(results: Sequence[StoredResult], max_bytes: int) -> tuple[bytes, int]:
    """The JSON array of as many results as fit in `max_bytes` (at least one).

    Returns:
        The body, and how many of `results` it consumed (encoded or skipped as unservable).
    """
    parts: list[bytes] = []
    size = 2
    consumed = 0
    for result in results:
        try:
            encoded = result.model_dump_json().encode("utf-8")
        except (ValueError, RecursionError) as exc:
            # Rows stored before the door checked for lone surrogates and depth.
            BAD_ROWS.skip(result, exc)
            consumed += 1
            continue
        if parts and size + len(encoded) + 1 > max_bytes:
            break
        parts.append(encoded)
        size += len(encoded) + 1
        consumed += 1
    return b"[" + b",".join(parts) + b"]", consumed


def query_int(request: web.Request, name: str, default: int | None) -> int | None:
    """An optional non-negative integer query parameter (400 with one sentence otherwise)."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise web.HTTPBadRequest(text=f"{name} must be a non-negative integer.\n")
    return int(raw)


async def results_handler(request: web.Request) -> web.Response:
    """One page of stored results, newest first (see the module's docstring)."""
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    limit = min(query_int(request, "limit", settings.results_limit) or 0, settings.results_limit)
    before = query_int(request, "before", None)
    loop = asyncio.get_running_loop()
    try:
        page = await store.page(limit, before)
    except StorageError as exc:  # Redis away: say so, and that it is worth trying again
        raise web.HTTPServiceUnavailable(text=f"{exc}\n", headers={"Retry-After": "2"}) from None
    body, consumed = await loop.run_in_executor(
        None, encode_page, page.results, settings.results_body_bytes
    )
    if consumed < len(page.results):
        # The body bound cut the page short: ask the store again for just that many, so the
        # cursor it returns continues right after the last result sent.
        page = await store.page(consumed, before)
        body, _ = await loop.run_in_executor(
            None, encode_page, page.results, settings.results_body_bytes
        )
    headers = {}
    if page.next_before is not None:
        after = urlencode({"limit": limit, "before": page.next_before})
        headers["Link"] = f'<{request.path}?{after}>; rel="next"'
    return web.Response(body=body, content_type="application/json", headers=headers)
