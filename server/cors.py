"""Cross-origin reads of `/api/` for the `--allow-origin` origins (CORS), and nothing else.

A page served from elsewhere (a static host, `?server=wss://this-server`) opens `/ws` after the
Origin check (`server/origin.py`); to read `/api/` it also needs the browser's permission, which
is these headers. Any other origin gets none, so its page cannot read the answers (as before
`--allow-origin` existed). Only CORS-mode fetches are answered: cross-origin isolation's
`Cross-Origin-Resource-Policy: same-origin` applies to no-cors requests, not to these.
"""

from __future__ import annotations

from aiohttp import hdrs, web

from server.origin import normalize

API_PREFIX = "/api/"
#: How long a browser may keep a preflight's answer (seconds).
PREFLIGHT_MAX_AGE = "600"


class CrossOrigin:
    """The extra origins allowed to read `/api/`, as an `on_response_prepare` hook and a route."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = frozenset(normalize(origin) for origin in allowed)

    def allows(self, request: web.Request) -> str | None:
        """The request's Origin if it is one of the allowed ones, else None."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or normalize(origin) not in self.allowed:
            return None
        return origin

    async def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """`on_response_prepare`: an allowed Origin may read this `/api/` response."""
        if not request.path.startswith(API_PREFIX):
            return
        # The answer differs by Origin: caches must not hand one origin's answer to another.
        response.headers.add(hdrs.VARY, hdrs.ORIGIN)
        origin = self.allows(request)
        if origin is not None:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = hdrs.LINK

    async def preflight(self, request: web.Request) -> web.Response:
        """`OPTIONS /api/...`: what an allowed origin may send (a POST with a JSON body)."""
        if self.allows(request) is None:
            raise web.HTTPForbidden(text="This origin may not use the API here.\n")
        return web.Response(
            status=204,
            headers={
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, POST",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Content-Type",
                hdrs.ACCESS_CONTROL_MAX_AGE: PREFLIGHT_MAX_AGE,
            },
        )

    def install(self, app: web.Application) -> None:
        """Add the hook and the preflight route (before the site's catch-all route)."""
        app.on_response_prepare.append(self.add_headers)
        app.router.add_route("OPTIONS", API_PREFIX + "{path:.*}", self.preflight, name="preflight")
