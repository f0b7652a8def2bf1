"""The last word on a request that failed inside the server: logged in full, answered plainly.

aiohttp's own handler logs an unhandled exception through the connection's logger, which this
server keeps to one line at info level (`server.guard`: malformed requests are the client's
problem). A handler's crash is ours: this middleware logs it at error level with its traceback
and answers a bare 500 (no details for the client).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)


@web.middleware
async def log_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pass every response and HTTP error through; log anything else, answer 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed with a 500", request.method, request.path)
        raise web.HTTPInternalServerError(text="500: the server failed; it is logged.\n") from None
