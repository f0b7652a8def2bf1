"""Headers every response carries: cross-origin isolation, CSP, and the caching policy."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import hdrs, web

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# COOP + COEP make the page cross-origin isolated, which is what lets the worker share a
# SharedArrayBuffer with the page (Pyodide's interrupt buffer, i.e. Cancel).
ISOLATION_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
)
SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        **ISOLATION_HEADERS,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    }
)
#: What `--no-isolation` sends: the same protections, minus cross-origin isolation.
UNISOLATED_HEADERS: Mapping[str, str] = MappingProxyType(
    {name: value for name, value in SECURITY_HEADERS.items() if name not in ISOLATION_HEADERS}
)

#: The `Server` header: the name only, no versions to look vulnerabilities up by.
SERVER_NAME = "Offload"
#: Says "an Offload server answered" where `Server` does not reach the page (nginx replaces it):
#: the page opens its socket only where this comes (web/socket/server-place.js); a static host
#: serving the same files sends none.
SERVED_BY_OFFLOAD = "X-Offload-Server"

# The vendored Pyodide runtime is versioned by its folder's contents (a new pin means a new
# build), so a week of caching is safe and spares a second visit 12 MB; ETag/Last-Modified still
# let a stale copy revalidate.
LONG_CACHE_PREFIX = "/pyodide/"
LONG_CACHE = "public, max-age=604800"
# Everything else is ours and changes with every build: always revalidate (cheap 304s).
REVALIDATE = "no-cache"


# The service worker lives with its concern in web/offline/ but controls the whole site: a
# worker script may only control pages below its own folder unless this header widens its scope.
# (A static host that cannot send it would need the script at the root: issue #22.)
SERVICE_WORKER_PATH = "/web/offline/service-worker.js"
SERVICE_WORKER_ALLOWED = "/"


def cache_control(path: str) -> str:
    """Return the Cache-Control value for a request path."""
    return LONG_CACHE if path.startswith(LONG_CACHE_PREFIX) else REVALIDATE


def add_path_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The headers that depend on the path: caching, and the service worker's wider scope."""
    response.headers.setdefault("Cache-Control", cache_control(request.path))
    if request.path == SERVICE_WORKER_PATH:
        response.headers["Service-Worker-Allowed"] = SERVICE_WORKER_ALLOWED


#: Names a browser treats as its own loopback: plain http to them is still a secure context.
LOOPBACK_NAMES = frozenset({"localhost", "::1"})


def reaches_insecure_context(request: web.Request) -> bool:
    """Whether the page asking is not a secure context: plain http (no TLS here, and no proxy's
    `X-Forwarded-Proto: https`) to a name other than the browser's own loopback.

    The browser ignores COOP there and says so as a console error on every page load, so it is
    left out (COEP and CORP are ignored silently). Only a header choice: a client that lies with
    `X-Forwarded-Proto` merely gets that console error back.
    """
    if request.scheme == "https" or request.headers.get("X-Forwarded-Proto", "") == "https":
        return False
    name = (request.url.host or "").lower()
    return not (name in LOOPBACK_NAMES or name.endswith(".localhost") or name.startswith("127."))


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: runs for every response, including errors and the ws 101.

    A middleware would miss the WebSocket handshake (its response is sent before the handler
    returns) and the router's own 404s, so the headers are added here instead.
    """
    response.headers.update(SECURITY_HEADERS)
    if reaches_insecure_context(request):
        del response.headers["Cross-Origin-Opener-Policy"]
    response.headers[hdrs.SERVER] = SERVER_NAME
    response.headers[SERVED_BY_OFFLOAD] = "1"
    add_path_headers(request, response)


async def add_headers_without_isolation(request: web.Request, response: web.StreamResponse) -> None:
    """`add_headers` minus COOP/COEP/CORP, for `--no-isolation`: shows how the page degrades."""
    response.headers.update(UNISOLATED_HEADERS)
    response.headers[hdrs.SERVER] = SERVER_NAME
    response.headers[SERVED_BY_OFFLOAD] = "1"
    add_path_headers(request, response)
