"""The service worker: the page precached for offline use, served from the cache with the server
down (isolated, Python booting, tasks running), replaced by a new build, failing honestly."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserType, Page, Request, Response, expect

import build
from support.browser import chromium_executable
from tests.support import (
    CHROMIUM_ARGS,
    DIST,
    WORKER_READY_TIMEOUT_MS,
    RunningServer,
    free_port,
    open_page,
    run_in_worker,
)

OFFLINE_READY_TIMEOUT_MS = 60_000

#: The service worker's caches are named after the build: web/offline/protocol.js.
SITE_CACHE_PREFIX = "offload-site-"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[RunningServer]]:
    """Servers a test starts itself (several on one port, or on another site); all stopped after."""
    started: list[RunningServer] = []
    yield started
    for running in started:
        running.stop()


def start(
    servers: list[RunningServer], tmp_path: Path, port: int, site: Path = DIST
) -> RunningServer:
    """A server for `site` on `port` (results kept in one data dir per test)."""
    running = RunningServer(
        port=port,
        data_dir=tmp_path / "data",
        log_dir=tmp_path / f"server-{len(servers)}",
        extra_args=["--dist", str(site)],
    )
    servers.append(running)
    return running.start()


def wait_until_offline_ready(page: Page) -> None:
    """Wait until the service worker has precached the build and controls the page."""
    expect(page.locator("#offline-state")).to_have_attribute(
        "data-state", "ready", timeout=OFFLINE_READY_TIMEOUT_MS
    )
    assert page.evaluate("() => navigator.serviceWorker.controller !== null") is True


def site_copy(tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(DIST, copy)
    return copy


def cache_names(page: Page) -> list[str]:
    """The service worker's caches (other caches of the origin are not its own)."""
    names: list[str] = page.evaluate("() => caches.keys()")
    return [name for name in names if name.startswith(SITE_CACHE_PREFIX)]


def wait_for_caches(page: Page, expected: list[str]) -> None:
    """Poll until the origin's caches are exactly `expected` (CSP forbids wait_for_function)."""
    deadline = time.monotonic() + OFFLINE_READY_TIMEOUT_MS / 1000
    while (names := cache_names(page)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert names == expected


def build_hash(site: Path) -> str:
    value: str = json.loads((site / "build-info.json").read_text())["hash"]
    return value


def test_the_service_worker_script_is_served_fresh_and_may_control_the_whole_site(
    page: Page, servers: list[RunningServer], tmp_path: Path
) -> None:
    server = start(servers, tmp_path, free_port())
    response = page.request.get(f"{server.url}web/offline/service-worker.js")
    assert response.ok
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["content-type"].startswith("text/javascript")
    assert f'const BUILD_HASH = "{build_hash(DIST)}";' in response.text()


def test_a_reload_with_the_server_down_boots_python_from_the_cache(
    page: Page, servers: list[RunningServer], tmp_path: Path
) -> None:
    server = start(servers, tmp_path, free_port())
    open_page(page, server)
    expect(page.locator("#offline-load")).to_have_attribute("data-source", "network")
    wait_until_offline_ready(page)
    expect(page.locator("#offline-cache")).to_contain_text(f"build {build_hash(DIST)}")
    assert cache_names(page) == [f"{SITE_CACHE_PREFIX}{build_hash(DIST)}"]

    server.stop()
    responses: list[Response] = []

    def record(response: Response) -> None:  # (a bound list.append trips Playwright's wrapper)
        responses.append(response)

    refused: list[str] = []
    page.on("response", record)

    def note_refused(request: Request) -> None:
        if "CONNECTION_REFUSED" in (request.failure or ""):
            refused.append(request.url)

    page.on("requestfailed", note_refused)
    page.reload()
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)

    expect(page.locator("#python-version")).to_contain_text("Python 3.14")
    assert page.evaluate("() => crossOriginIsolated") is True
    expect(page.locator("#offline-load")).to_have_attribute("data-source", "cache")
    run_in_worker(page, "primes", {"n": "1000"})
    expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")
    # The socket cannot reach the server and says so while it keeps trying.
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "reconnecting")
    # Nothing reached the network: the server is down, so whatever tried was refused (only /api/,
    # which is never cached). Everything came from the service worker, except the runtime's big
    # code files, which it leaves to the browser while the HTTP cache holds this build's copy
    # fresh (the other offline test clears that cache); its log says which.
    assert [url for url in refused if "/api/" not in url] == []
    assert any(r.url.endswith("pyodide.asm.wasm") for r in responses)
    origin = server.url.rstrip("/")
    passed = {r.url.removeprefix(origin) for r in responses if not r.from_service_worker}
    assert passed <= {"/pyodide/pyodide.asm.wasm", "/pyodide/pyodide.asm.mjs"}
    log = page.locator("#offline-log tr")
    from_http_cache = page.locator("[data-source='http-cache-direct']")
    for path in passed:
        expect(log.filter(has_text=path).and_(from_http_cache)).not_to_have_count(0)
    either = page.locator("[data-source='cache'], [data-source='http-cache-direct']")
    runtime = log.filter(has_text="/pyodide/pyodide.asm.wasm")
    expect(runtime.and_(either)).not_to_have_count(0)
    cached = page.locator("#offline-log tr[data-source='cache']")
    expect(cached.filter(has_text="/wheels/offload-")).not_to_have_count(0)
    # The page's own scripts come by the worker's static routes, without its fetch handler: the
    # panel lists them from the page's resource timing.
    routed = page.locator("#offline-log tr[data-source='route-cache']")
    expect(routed.filter(has_text="/web/main.js")).to_have_count(1)
    expect(routed.filter(has_text="/web/style.css")).to_have_count(1)

    # When the server is back, the result computed offline reaches it.
    start(servers, tmp_path, server.port)
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open", timeout=30_000)
    expect(page.locator("#shared-results")).to_contain_text("primes", timeout=30_000)
    stored = page.request.get(f"{server.url}api/results?limit=10").json()
    assert [result["task"] for result in stored] == ["primes"]


def test_the_wasm_runtime_comes_from_the_http_cache_while_it_holds_this_builds_copy(
    browser_type: BrowserType, servers: list[RunningServer], tmp_path: Path
) -> None:
    # Chromium reuses compiled wasm only for an HTTP-cache response passed through, never for one
    # from Cache Storage (docs/offline.md): a profile with a disk cache, like a person's, keeps the
    # 9.6 MB runtime there (a default test context does not).
    server = start(servers, tmp_path, free_port())
    context = browser_type.launch_persistent_context(
        tmp_path / "profile", args=CHROMIUM_ARGS, executable_path=chromium_executable()
    )
    try:
        page = open_page(context.new_page(), server)
        wait_until_offline_ready(page)
        wasm = "#offline-log tr:has-text('/pyodide/pyodide.asm.wasm')"

        page.reload()
        page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
        # Left to the browser, which knows the copy is fresh.
        http_cache = "[data-source='http-cache-direct']"
        expect(page.locator(wasm).and_(page.locator(http_cache))).not_to_have_count(0)
        expect(page.locator(f"{wasm}[data-source='cache']")).to_have_count(0)

        # Without it (evicted, cleared), the service worker's own copy serves, offline too.
        cdp = context.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        server.stop()
        page.reload()
        page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
        assert page.evaluate("() => crossOriginIsolated") is True
        expect(page.locator(f"{wasm}[data-source='cache']")).not_to_have_count(0)
        run_in_worker(page, "primes", {"n": "1000"})
        expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")

        # The site's root sends a visitor to the page offline too (the service worker redirects
        # as the server does), keeping the query.
        page.goto(f"{server.url}?socket=direct")
        expect(page).to_have_url(f"{server.url}web/?socket=direct")
        expect(page.locator("#socket-mode")).to_have_attribute("data-mode", "direct")
    finally:
        context.close()


def test_a_rebuilt_site_replaces_the_cache_on_the_next_load(
    page: Page, servers: list[RunningServer], tmp_path: Path
) -> None:
    port = free_port()
    old = start(servers, tmp_path, port)
    open_page(page, old)
    wait_until_offline_ready(page)

    # A rebuild in which one file changed: a new hash, served by a new server on the same port.
    rebuilt = site_copy(tmp_path, "dist-rebuilt")
    marker = "/* rebuilt for the test */"
    with (rebuilt / "web" / "style.css").open("a") as css:
        css.write(f"\n{marker}\n")
    new_hash = build.write_precache_manifest(rebuilt)
    assert new_hash != build_hash(DIST)
    old.stop()
    start(servers, tmp_path, port, rebuilt)

    # This load still comes from the old cache; its update check installs the new build, which
    # takes over and deletes the old cache.
    page.reload()
    wait_for_caches(page, [f"{SITE_CACHE_PREFIX}{new_hash}"])

    page.reload()
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
    expect(page.locator("#offline-load")).to_have_attribute("data-source", "cache")
    expect(page.locator("#offline-load")).to_contain_text(f"build {new_hash}")
    css = page.evaluate("() => fetch('style.css').then((response) => response.text())")
    assert marker in css


def test_a_failed_precache_leaves_the_page_on_the_network_and_says_why(
    page: Page, servers: list[RunningServer], tmp_path: Path
) -> None:
    broken = site_copy(tmp_path, "dist-missing-file")
    (missing,) = (broken / "wheels").glob("micropip-*.whl")  # listed, but the server lacks it
    missing.unlink()
    server = start(servers, tmp_path, free_port(), broken)
    open_page(page, server)

    state = page.locator("#offline-state")
    expect(state).to_have_attribute("data-state", "failed", timeout=OFFLINE_READY_TIMEOUT_MS)
    expect(state).to_contain_text(f"wheels/{missing.name} answered HTTP 404")
    expect(state).to_contain_text("keeps working from the network")
    assert cache_names(page) == []
    assert page.evaluate("() => navigator.serviceWorker.controller") is None
    run_in_worker(page, "primes", {"n": "1000"})
    expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")


def test_the_clear_button_deletes_the_cache_and_unregisters_the_worker(
    page: Page, servers: list[RunningServer], tmp_path: Path
) -> None:
    server = start(servers, tmp_path, free_port())
    open_page(page, server)
    wait_until_offline_ready(page)

    page.get_by_role("button", name="Clear the cache and unregister").click()

    expect(page.locator("#offline-state")).to_have_attribute("data-state", "cleared")
    assert cache_names(page) == []
    assert page.evaluate("() => navigator.serviceWorker.getRegistrations()") == []
    page.reload()
    expect(page.locator("#offline-load")).to_have_attribute("data-source", "network")
