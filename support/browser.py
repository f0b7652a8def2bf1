"""Which Chromium drives the browser tests and the benchmark, and with which flags.

The one place that looks a Chromium up: build.py asks `find_chromium()` once and passes the answer
to pytest and the benchmark in OFFLOAD_CHROMIUM (empty: Playwright's own browser), which
`chromium_executable()` reads. Standard library only (build.py imports it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: The environment variable naming the Chromium to drive ("" means Playwright's own).
ENV = "OFFLOAD_CHROMIUM"
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
PLAYWRIGHT = "playwright"

#: Flags for a headless Chromium on a shared machine without a GPU or a network to phone home to.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Pyodide's first boot compiles 10 MB of wasm; on a busy 2-core machine that can take a while.
WORKER_READY_TIMEOUT_MS = 90_000


def find_chromium() -> str | None:
    """`PLAYWRIGHT` if Playwright's own Chromium is installed, else the system's path, else None."""
    playwright_browsers = Path(
        os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright")
    )
    if any(playwright_browsers.glob("chromium-*/chrome-linux*/chrome")):
        return PLAYWRIGHT
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def chromium_executable() -> str | None:
    """The executable to launch: OFFLOAD_CHROMIUM when set (empty: None, Playwright's own), else
    what `find_chromium` finds (for pytest or the benchmark run without build.py)."""
    chosen = os.environ.get(ENV)
    if chosen is None:
        chosen = find_chromium() or ""
    return None if chosen in ("", PLAYWRIGHT) else chosen
