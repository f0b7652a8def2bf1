"""Serves the built site (`--dist`) at `/`: files only, no listings, nothing outside the folder.

The site mirrors the repository (`/web/main.js` is `web/main.js`), so the page is at `/web/` and
`/` redirects there, keeping the query (`/?socket=direct` -> `/web/?socket=direct`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from aiohttp import web

# Set explicitly rather than trusting the host's mimetypes database: a browser refuses a module
# script or `WebAssembly.instantiateStreaming` with the wrong type, and nosniff forbids guessing.
CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".mjs": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".json": "application/json",
        ".wasm": "application/wasm",
        ".whl": "application/zip",
        ".zip": "application/zip",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".ico": "image/x-icon",
        ".txt": "text/plain; charset=utf-8",
        ".map": "application/json",
        ".py": "text/plain; charset=utf-8",
        # The README and docs the page links to: shown as text (text/markdown would be downloaded).
        ".md": "text/plain; charset=utf-8",
        ".tar": "application/x-tar",
    }
)
FALLBACK_TYPE = "application/octet-stream"
#: Where `/` sends a visitor: the page's folder.
HOME = "/web/"


def resolve(root: Path, url_path: str) -> Path | None:
    """Map a URL path to a regular file inside `root`, or None.

    Args:
        root: the resolved site folder.
        url_path: the path part of the URL after the leading slash; one ending in "/" means that
            folder's index.html.

    Returns:
        The file to send, or None when the path names nothing servable: a missing file, a
        folder (no listings), or anything that resolves outside `root` (`..`, symlinks).
    """
    if url_path == "" or url_path.endswith("/"):
        url_path += "index.html"
    if "\\" in url_path or "\0" in url_path:
        return None
    try:
        candidate = (root / url_path.lstrip("/")).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
    except OSError:  # a segment longer than the file system allows (ENAMETOOLONG), and the like
        return None
    return candidate


def add_static_routes(app: web.Application, dist: Path) -> None:
    """Register the catch-all GET route for the site; call it after every other route."""
    root = dist.resolve()

    async def serve(request: web.Request) -> web.StreamResponse:
        if request.match_info["path"] == "":
            query = request.rel_url.query_string
            raise web.HTTPFound(f"{HOME}?{query}" if query else HOME)
        path = resolve(root, request.match_info["path"])
        if path is None:
            raise web.HTTPNotFound(text="Not found.\n")
        content_type = CONTENT_TYPES.get(path.suffix.lower(), FALLBACK_TYPE)
        return web.FileResponse(path, headers={"Content-Type": content_type})

    app.router.add_get("/{path:.*}", serve, name="static")
