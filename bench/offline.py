"""The service worker's cache against the HTTP cache: a warm start of the page from each, and a
reload with the server stopped (issue 13).

Each side runs in its own persistent profile (Playwright's `new_context()` keeps no HTTP cache of
the 9.6 MB wasm, so a warm start needs a real profile): one where the page's service worker has
precached the build, one where service workers are blocked and only the HTTP cache is warm. A
"start" is navigation to a ready worker pool, as the page itself records it (`data-ready-at`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from playwright.sync_api import BrowserContext, Page, sync_playwright

from bench.plan import Plan
from bench.rows import REPORT, Row, at_most, median
from support.browser import CHROMIUM_ARGS, chromium_executable
from support.server import RunningServer, free_port

READY = "#worker-status[data-state='ready']"
TIMEOUT_MS = 240_000


def ready_at(page: Page) -> float:
    """Navigation to a ready pool, in ms, for the page as loaded now."""
    page.locator(READY).wait_for(timeout=TIMEOUT_MS)
    return float(page.locator("#worker-status").get_attribute("data-ready-at") or "nan")


def warm_starts(page: Page, reps: int) -> list[float]:
    """Reload `reps` times, each a warm start; their times to ready."""
    times = []
    for _ in range(reps):
        page.reload()
        times.append(ready_at(page))
    return times


def service_worker_cache(plan: Plan, scratch: Path) -> list[Row]:
    """Warm start from the service worker's cache ÷ from the HTTP cache; the offline reload."""
    reps = plan.startup_reps
    server = RunningServer(free_port(), scratch / "data", scratch / "logs").start()
    try:
        with sync_playwright() as playwright:

            def profile(name: str, service_workers: Literal["allow", "block"]) -> BrowserContext:
                return playwright.chromium.launch_persistent_context(
                    tempfile.mkdtemp(prefix=f"offload-{name}-", dir=scratch),
                    executable_path=chromium_executable(),
                    args=CHROMIUM_ARGS,
                    service_workers=service_workers,
                )

            http = profile("http-cache", "block")
            page = http.new_page()
            page.goto(server.url)
            ready_at(page)
            from_http = warm_starts(page, reps)
            http.close()

            cached = profile("sw-cache", "allow")
            page = cached.new_page()
            page.goto(server.url)
            ready_at(page)
            page.locator("#offline-state[data-state='ready']").wait_for(timeout=TIMEOUT_MS)
            from_cache = warm_starts(page, reps)
            server.stop()
            offline = warm_starts(page, reps)
            source = page.locator("#offline-load").get_attribute("data-source")
            cached.close()
    finally:
        server.stop()
    if source != "cache":
        raise RuntimeError(f"the offline reload did not come from the cache (it says {source!r})")
    note = f"navigation to a ready pool of workers, persistent profiles; median of {reps} reloads"
    return [
        Row(
            "start-up",
            "warm: service worker cache ÷ HTTP cache",
            median(from_cache),
            median(from_http),
            "ms",
            at_most(1.0),
            f"{note}; the HTTP-cache side runs with service workers blocked",
        ),
        Row(
            "start-up",
            "offline reload ÷ online warm (service worker)",
            median(offline),
            median(from_cache),
            "ms",
            REPORT,
            f"{note}; the server stopped, everything from the service worker's cache",
        ),
    ]
