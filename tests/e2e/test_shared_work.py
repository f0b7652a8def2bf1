"""Pages share work and results through the server, and nothing is lost when one goes away.

Two real pages volunteer their worker pools for a distributed Monte Carlo job; one leaves half-way
and the job still ends with exactly the total a native computation of every chunk gives. A result
computed while the server is down reaches it after the page reconnects.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from playwright.sync_api import Browser, Page, expect

from offload.tasks.montecarlo import count_inside
from server.job_rules import chunk_seed
from tests.support import RunningServer, ServerFactory, open_page, start_job

JOB_SEED = 20261125
CHUNK_SAMPLES = 500_000
CHUNKS = 60


def join(page: Page) -> None:
    button = page.get_by_role("button", name="Join with this page")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def chunks_done_by(page: Page) -> int:
    return int(page.locator("#job-mine").inner_text())


def test_a_shared_job_ends_exactly_right_when_a_page_leaves_half_way(
    browser: Browser, server_factory: ServerFactory
) -> None:
    server = server_factory()
    staying = browser.new_context().new_page()
    leaving_context = browser.new_context()
    leaving = leaving_context.new_page()
    try:
        for page in (staying, leaving):
            open_page(page, server)
            join(page)
        start_job(
            staying,
            server.ws_url,
            "e2e-job",
            chunks=CHUNKS,
            chunk_samples=CHUNK_SAMPLES,
            seed=JOB_SEED,
        )
        # (A locator, not wait_for_function: the page's CSP rightly forbids evaluating strings.)
        expect(leaving.locator("#job-mine")).not_to_have_text(
            re.compile(r"^[01]$"), timeout=120_000
        )
        assert staying.locator("#job-progress").get_attribute("data-done") == "false"
        leaving_context.close()  # its unfinished chunks must go back in the queue

        progress: dict[str, Any] = staying.evaluate("window.finalProgress")
        expected = sum(count_inside(CHUNK_SAMPLES, chunk_seed(JOB_SEED, i)) for i in range(CHUNKS))
        assert progress["samples_done"] == CHUNKS * CHUNK_SAMPLES
        assert progress["chunks_done"] == CHUNKS
        assert progress["inside"] == expected
        assert chunks_done_by(staying) >= 1
        expect(staying.locator("#job-progress")).to_have_attribute("data-done", "true")
        expect(staying.locator("#job-estimate")).to_contain_text("π ≈ 3.1")
    finally:
        staying.context.close()


def stored_results(server: RunningServer) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.origin}/api/results") as response:
        results: list[dict[str, Any]] = json.load(response)
        return results


def test_a_result_made_while_the_server_is_down_arrives_after_reconnecting(
    page: Page, server_factory: ServerFactory
) -> None:
    server = server_factory()
    open_page(page, server)
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    server.stop()
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "reconnecting")

    page.get_by_label("Task").select_option("primes")
    page.locator("#params [name='n']").fill("1000")
    page.get_by_role("button", name="Run in worker").click()
    expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")

    server.start()  # same port, same data dir
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open", timeout=30_000)
    expect(page.locator("#shared-results")).to_contain_text("primes", timeout=15_000)
    stored = [r for r in stored_results(server) if r["task"] == "primes"]
    assert [r["result"] for r in stored] == [{"count": 168}]
