"""One WebSocket for every tab of a browser: tabs talk to the server through a SharedWorker that
owns the connection, see each other's results, keep the connection when the first tab closes,
and lose no chunk of a shared job when a tab closes half-way. `?socket=direct` opts out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect

from offload.tasks.montecarlo import count_inside
from server.job_rules import chunk_seed
from tests.support import ServerFactory, run_in_worker, start_job

# A plain WebSocket client (not the app's), kept in window.plain with every message it received.
PLAIN_CLIENT = """
(url) => new Promise((resolve, reject) => {
  window.plain = [];
  const socket = new WebSocket(url);
  socket.onmessage = (event) => window.plain.push(JSON.parse(event.data));
  socket.onopen = () => resolve();
  socket.onerror = () => reject(new Error("the plain client could not connect"));
})
"""
# Resolves once the plain client has received a message of type `kind` (polled in the page: the
# site's CSP forbids wait_for_function's string predicates); the bound only makes a failure fail.
PLAIN_RECEIVED = """
async (kind) => {
  for (const until = performance.now() + 120_000; performance.now() < until;) {
    if (window.plain.some((message) => message.type === kind)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${kind} in ${JSON.stringify(window.plain)}`);
}
"""

JOB_SEED = 7_202_611
CHUNK_SAMPLES = 400_000
CHUNKS = 40
# Two tabs of one browser boot their pools side by side; on a loaded 2-core machine that was seen
# to take over a minute each.
BUSY_READY_MS = 240_000


def expect_open(page: Page) -> None:
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open", timeout=30_000)


@pytest.mark.timeout(600)
def test_three_tabs_share_one_connection_and_see_each_others_results(
    browser: Browser, server_factory: ServerFactory
) -> None:
    server = server_factory()
    context = browser.new_context()
    elsewhere = browser.new_context().new_page()  # another browser profile, with a plain client
    try:
        opened_by_tabs: list[str] = []

        def record(socket: WebSocket) -> None:
            opened_by_tabs.append(socket.url)

        tabs = [context.new_page() for _ in range(3)]
        for tab in tabs:
            tab.on("websocket", record)
        # The first tab's Python is up before the others start theirs (a 2-core machine).
        tabs[0].goto(server.url)
        tabs[0].locator("#worker-status[data-state='ready']").wait_for(timeout=BUSY_READY_MS)
        for tab in tabs[1:]:
            tab.goto(server.url)
        for tab in tabs:
            expect_open(tab)
            expect(tab.locator("#socket-mode")).to_have_attribute("data-mode", "shared")
        expect(tabs[2].locator("#browser-tabs")).to_have_attribute("data-tabs", "3")
        expect(tabs[2].locator("#browser-tabs")).to_contain_text("3 tabs on 1 connection")

        elsewhere.goto(f"{server.url}build-info.json")  # the site's origin, without the app
        elsewhere.evaluate(PLAIN_CLIENT, server.ws_url)
        # The server counts this browser once as a connection and three times as tabs; with the
        # plain client: 2 connections, 4 tabs.
        peers = tabs[0].locator("#peers")
        expect(peers).to_have_attribute("data-connections", "2")
        expect(peers).to_have_attribute("data-tabs", "4")

        run_in_worker(tabs[0], "primes", {"n": "1000"})
        for sibling in tabs[1:]:
            expect(sibling.locator("#shared-results")).to_contain_text("primes in", timeout=15_000)
            expect(sibling.locator("#shared-results")).to_contain_text(
                "by another tab of this browser"
            )
        this_tab = tabs[0].locator("#browser-tabs")
        expect(this_tab).to_contain_text(re.compile(r"this is tab \d+"))
        found = re.search(r"this is tab (\d+)", this_tab.inner_text())
        assert found is not None
        sender = found.group(1)
        expect(tabs[0].locator("#frame-log")).to_contain_text(f"↑ tab {sender} (this)")
        expect(tabs[1].locator("#frame-log")).to_contain_text(f"↑ tab {sender}")
        elsewhere.evaluate(PLAIN_RECEIVED, "peer_result")
        results: list[Any] = elsewhere.evaluate(
            "() => window.plain.filter((m) => m.type === 'peer_result').map((m) => m.result)"
        )
        assert [(r["task"], r["result"]) for r in results] == [("primes", {"count": 168})]
        assert opened_by_tabs == []  # the shared worker's socket is the browser's only one

        tabs[0].close()  # the tab that opened the connection
        for tab in tabs[1:]:
            expect(tab.locator("#browser-tabs")).to_have_attribute("data-tabs", "2")
            expect_open(tab)
        expect(peers := tabs[1].locator("#peers")).to_have_attribute("data-tabs", "3")
        expect(peers).to_have_attribute("data-connections", "2")
        assert opened_by_tabs == []
    finally:
        context.close()
        elsewhere.context.close()


def test_with_socket_direct_each_tab_opens_its_own_websocket(
    page: Page, server_factory: ServerFactory
) -> None:
    server = server_factory()
    opened: list[str] = []

    def record(socket: WebSocket) -> None:
        opened.append(socket.url)

    page.on("websocket", record)
    page.goto(f"{server.url}?socket=direct")
    expect_open(page)
    expect(page.locator("#socket-mode")).to_have_attribute("data-mode", "direct")
    expect(page.locator("#socket-mode")).to_contain_text("?socket=direct")
    expect(page.locator("#handshake-text")).to_contain_text("101 Switching Protocols")
    expect(page.locator("#frame-log")).to_contain_text("hello")
    assert opened == [server.ws_url]


@pytest.mark.timeout(600)
def test_a_tab_closing_with_chunks_loses_none_and_the_total_is_exact(
    browser: Browser, server_factory: ServerFactory
) -> None:
    server = server_factory()
    context = browser.new_context()
    starter = browser.new_context().new_page()
    try:
        staying, leaving = context.new_page(), context.new_page()
        for tab in (staying, leaving):
            tab.goto(server.url)
            tab.locator("#worker-status[data-state='ready']").wait_for(timeout=BUSY_READY_MS)
            button = tab.get_by_role("button", name="Join with this page")
            button.click()
            expect(button).to_have_attribute("aria-pressed", "true")
        starter.goto(server.url)
        start_job(
            starter,
            server.ws_url,
            "tabs-job",
            chunks=CHUNKS,
            chunk_samples=CHUNK_SAMPLES,
            seed=JOB_SEED,
        )
        expect(leaving.locator("#job-mine")).not_to_have_text(
            re.compile(r"^[01]$"), timeout=120_000
        )
        assert staying.locator("#job-progress").get_attribute("data-done") == "false"
        leaving.close()  # mid-job, with chunks in its workers

        progress: dict[str, Any] = starter.evaluate("window.finalProgress")
        expected = sum(count_inside(CHUNK_SAMPLES, chunk_seed(JOB_SEED, i)) for i in range(CHUNKS))
        assert progress["chunks_done"] == CHUNKS
        assert progress["samples_done"] == CHUNKS * CHUNK_SAMPLES
        assert progress["inside"] == expected
        assert int(staying.locator("#job-mine").inner_text()) >= 1
        expect(staying.locator("#job-progress")).to_have_attribute("data-done", "true")
    finally:
        context.close()
        starter.context.close()
