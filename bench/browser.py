"""Headless Chromium through Playwright's sync API, opened on the benchmark page (/bench/web/).

The page's functions (bench/web/bench.js) are called by name; everything they return is plain
JSON. One browser per run; a fresh context is a fresh profile with an empty cache (cold start).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import BrowserContext, Page, sync_playwright

from support.browser import CHROMIUM_ARGS, WORKER_READY_TIMEOUT_MS, chromium_executable

# measureUserAgentSpecificMemory otherwise waits for the next garbage collection, up to 20 s.
BENCH_ARGS = ["--enable-blink-features=ForceEagerMeasureMemory"]


class BenchPage:
    """The benchmark page in one browser context."""

    def __init__(self, context: BrowserContext, url: str) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.page.set_default_timeout(WORKER_READY_TIMEOUT_MS * 2)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)
        self.page.locator("body[data-ready='true']").wait_for(state="attached", timeout=30_000)

    def call(self, name: str, *args: object) -> Any:
        """`await offloadBench.<name>(...args)` in the page; its JSON result."""
        return self.page.evaluate(f"(args) => globalThis.offloadBench.{name}(...args)", list(args))

    def probe_point(self) -> tuple[float, float]:
        """Where #probe is; ask before a run, since finding it needs the page's main thread."""
        box = self.page.locator("#probe").bounding_box()
        if box is None:
            raise RuntimeError("the benchmark page has no visible #probe")
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def click(self, point: tuple[float, float]) -> None:
        """A raw mouse click at `point`: no actionability checks, which would need the page's
        main thread and so wait until a main-thread run is over before clicking."""
        self.page.mouse.click(*point)

    def close(self) -> None:
        self.context.close()


class Browser:
    """One Chromium; `page()` opens the benchmark page in a fresh context."""

    def __init__(self, playwright_browser: Any, site_url: str) -> None:
        self.browser = playwright_browser
        self.url = f"{site_url}bench/web/index.html"  # the server lists no folders
        self.version: str = playwright_browser.version

    def page(self, *, bypass_csp: bool = False) -> BenchPage:
        """A fresh context (empty cache) with the benchmark page loaded.

        Args:
            bypass_csp: let the page connect to another port (the bare echo server); the site's
                CSP allows only its own origin.
        """
        return BenchPage(self.browser.new_context(bypass_csp=bypass_csp), self.url)


@contextmanager
def launch(site_url: str) -> Iterator[Browser]:
    """Chromium from OFFLOAD_CHROMIUM (empty: Playwright's own), with the tests' flags."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(),
            args=[*CHROMIUM_ARGS, *BENCH_ARGS],
        )
        try:
            yield Browser(browser, site_url)
        finally:
            browser.close()
