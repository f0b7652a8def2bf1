"""PyScript 0.7.31, the start-up baseline: a small static server for its benchmark page.

PyScript needs `unsafe-eval`, which the site's CSP forbids, so its page is served here instead:
the same built site (dist/, so the same Pyodide files), the same isolation and caching headers,
no CSP, and /pyscript/ mapped to the pinned npm package (a dev dependency used only here).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from server.headers import ISOLATION_HEADERS, cache_control
from support.server import DIST, ROOT

PYSCRIPT_DIST = ROOT / "node_modules" / "@pyscript" / "core" / "dist"
PREFIX = "/pyscript/"
# PyScript lets loadPyodide look for the lockfile beside pyodide.mjs; the site keeps it (with the
# offload wheel registered) in /wheels/, where our worker and the bare worker read it.
LOCKFILE = "/pyodide/pyodide-lock.json"


class Handler(SimpleHTTPRequestHandler):
    """dist/, /pyscript/ and the lockfile; isolation and Cache-Control headers, no CSP."""

    extensions_map = SimpleHTTPRequestHandler.extensions_map | {
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".py": "text/plain",
        ".json": "application/json",
    }

    def translate_path(self, path: str) -> str:
        if path.split("?", maxsplit=1)[0] == LOCKFILE:
            return str(DIST / "wheels" / "pyodide-lock.json")
        if path.startswith(PREFIX):
            wanted = path[len(PREFIX) :].split("?", maxsplit=1)[0]
            found = (PYSCRIPT_DIST / wanted).resolve()
            # Nothing outside the package, whatever the path says ("../").
            return str(found) if found.is_relative_to(PYSCRIPT_DIST.resolve()) else "/nonexistent"
        return super().translate_path(path)

    def end_headers(self) -> None:
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", cache_control(self.path))
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark prints its own progress."""


@contextmanager
def pyscript_site() -> Iterator[str]:
    """Serve the site for the PyScript page on a free loopback port; yields its base URL."""
    if not PYSCRIPT_DIST.is_dir():
        raise RuntimeError("node_modules/@pyscript/core is missing: run `python3 build.py setup`")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(DIST)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
