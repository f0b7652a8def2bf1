"""The service worker's cache against the HTTP cache: a warm start of the page from each, and a
visit with the server stopped (issue 13).

Each side runs in its own persistent profile (Playwright's `new_context()` keeps no HTTP cache of
the 9.6 MB wasm, so a warm start needs a real profile): one where the page's service worker has
precached the build, one where service workers are blocked and only the HTTP cache is warm. A
"start" is a navigation (a second visit) to a ready worker pool, as the page itself records it
(`data-ready-at`); the two sides take turns.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from playwright.sync_api import BrowserContext, Page, sync_playwright

from bench.plan import Plan
from bench.rows import REPORT, Row, at_most, median
from bench.startup import CODE_CACHE_DELAY_MS, WAIT_STORED
from support.browser import CHROMIUM_ARGS, chromium_executable
from support.server import RunningServer, free_port

READY = "#worker-status[data-state='ready']"
TIMEOUT_MS = 240_000
# Longer than the snapshot maker's warm-up takes after it stores the snapshot (~1-3 s here).
WARM_UP_MS = 4_000


def ready_at(page: Page) -> float:
    """Navigation to a ready pool, in ms, for the page as loaded now."""
    page.locator(READY).wait_for(timeout=TIMEOUT_MS)
    return float(page.locator("#worker-status").get_attribute("data-ready-at") or "nan")


def restored(page: Page) -> tuple[int, int]:
    """How many of the page's workers restored the memory snapshot, of how many."""
    boots = page.locator("#boots li")
    return boots.and_(page.locator("[data-source='snapshot']")).count(), boots.count()


def warm_start(page: Page, url: str, snapshots: list[tuple[int, int]]) -> float:
    """Visit `url` again in `page` (which shows a blank page meanwhile): its time to ready. Appends
    to `snapshots` how many workers restored the snapshot: a fair comparison restores on both
    sides. The page is left blank again, so that its animation and workers cost the other side's
    start nothing."""
    page.goto(url)
    time = ready_at(page)
    snapshots.append(restored(page))
    page.goto("about:blank")
    return time


def first_visit(page: Page, url: str) -> None:
    """A profile's first visit, the same on both sides: its pool boots from scratch and one worker
    makes the memory snapshot. The visit lasts until the snapshot is stored (a maker sent away
    before that stores none, and that side's next visits would boot from scratch again: an unfair
    comparison), then until the maker's warm-up is over and V8 has cached the optimised code."""
    page.goto(url)
    ready_at(page)
    if not page.evaluate(WAIT_STORED):
        raise RuntimeError("the first visit stored no memory snapshot")
    page.wait_for_timeout(WARM_UP_MS + CODE_CACHE_DELAY_MS)


def share(snapshots: list[tuple[int, int]]) -> str:
    """ "8/8 workers": restored from the snapshot, of all started."""
    return f"{sum(done for done, _ in snapshots)}/{sum(total for _, total in snapshots)} workers"


def service_worker_cache(plan: Plan, scratch: Path) -> list[Row]:
    """Warm start from the service worker's cache ÷ from the HTTP cache; the offline reload."""
    visits = plan.cache_visits
    server = RunningServer(free_port(), scratch / "data", scratch / "logs").start()
    # The page itself, not `/`: a start is measured from the navigation, and `/` adds a redirect.
    app = f"{server.url}web/"
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
            cached = profile("sw-cache", "allow")
            http_page = http.new_page()
            first_visit(http_page, app)
            http_page.goto("about:blank")
            page = cached.new_page()
            first_visit(page, app)
            page.locator("#offline-state[data-state='ready']").wait_for(timeout=TIMEOUT_MS)
            page.goto("about:blank")
            # Taken in turns, each side first every other time, so that a busy spell of the
            # machine (another benchmark, say) falls on both sides alike.
            from_http: list[float] = []
            from_cache: list[float] = []
            http_snapshots: list[tuple[int, int]] = []
            sw_snapshots: list[tuple[int, int]] = []
            turns = [(http_page, from_http, http_snapshots), (page, from_cache, sw_snapshots)]
            for visit in range(visits):
                for side, times, snapshots in turns if visit % 2 == 0 else turns[::-1]:
                    times.append(warm_start(side, app, snapshots))
            http.close()
            server.stop()
            offline = [warm_start(page, app, []) for _ in range(plan.startup_reps)]
            page.goto(app)
            ready_at(page)
            source = page.locator("#offline-load").get_attribute("data-source")
            cached.close()
    finally:
        server.stop()
    if source != "cache":
        raise RuntimeError(f"the offline reload did not come from the cache (it says {source!r})")
    note = "navigation to a ready pool of workers, persistent profiles open side by side"
    return [
        Row(
            "start-up",
            "warm: service worker cache ÷ HTTP cache",
            median(from_cache),
            median(from_http),
            "ms",
            at_most(1.0),
            f"{note}; median of {visits} visits each, taken in turns; the HTTP-cache side runs "
            "with service workers blocked; restored from the "
            f"memory snapshot: {share(sw_snapshots)} (service worker), {share(http_snapshots)} "
            "(HTTP cache)",
        ),
        Row(
            "start-up",
            "offline reload ÷ online warm (service worker)",
            median(offline),
            median(from_cache),
            "ms",
            REPORT,
            f"{note}; median of {len(offline)} visits with the server stopped, everything from the "
            "service worker's cache",
        ),
    ]
