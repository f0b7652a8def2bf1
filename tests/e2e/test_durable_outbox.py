"""The page's durable outbox, as a student meets it: a shared result made while the server is down
waits in IndexedDB, the page says so, a reload (served by the service worker) keeps it, and when
the server is back it arrives once and the page's count goes to 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support import (
    DIST,
    WORKER_READY_TIMEOUT_MS,
    RunningServer,
    free_port,
    open_page,
    run_in_worker,
)

READY_TIMEOUT_MS = 60_000
WAITING = "#outbox-waiting"

#: The ids in the page's outbox (IndexedDB, web/socket/outbox.js).
OUTBOX_IDS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("offload-outbox", 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction("messages").objectStore("messages").getAllKeys();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  };
})"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = RunningServer(
        port=free_port(),
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "server",
        extra_args=["--dist", str(DIST)],
    )
    yield running.start()
    running.stop()


def test_a_result_made_offline_survives_a_reload_and_arrives_once(
    page: Page, server: RunningServer
) -> None:
    open_page(page, server)
    expect(page.locator("#offline-state")).to_have_attribute(
        "data-state", "ready", timeout=READY_TIMEOUT_MS
    )
    expect(page.locator(WAITING)).to_have_attribute("data-waiting", "0")

    server.stop()
    expect(page.locator("#socket-state")).not_to_have_attribute("data-state", "open")
    run_in_worker(page, "primes", {"n": "1000"})
    expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")
    expect(page.locator(WAITING)).to_have_attribute("data-waiting", "1")
    expect(page.locator(WAITING)).to_contain_text("1 result waiting to be sent")
    ids = page.evaluate(OUTBOX_IDS)
    assert len(ids) == 1, ids

    page.reload()
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
    expect(page.locator(WAITING)).to_have_attribute("data-waiting", "1")
    assert page.evaluate(OUTBOX_IDS) == ids

    server.start()
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open", timeout=30_000)
    expect(page.locator(WAITING)).to_have_attribute("data-waiting", "0", timeout=30_000)
    expect(page.locator(WAITING)).to_contain_text("nothing waiting")
    stored = page.request.get(f"{server.url}api/results?limit=50").json()
    assert [row["id"] for row in stored] == ids
    assert page.evaluate(OUTBOX_IDS) == []
