"""The built site, served by the real server, boots Python 3.14 in a worker in a real Chromium.

These are the foundation's promises as a new user would check them: the page shows the worker's
Python version, runs a task in it, is cross-origin isolated, never leaves its origin, and the
server's WebSocket greets it.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.support import PageProblems, RunningServer, open_page, run_in_worker

pytestmark = pytest.mark.e2e


def test_the_worker_reports_python_3_14_and_its_load_time(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    expect(page.locator("#python-version")).to_contain_text("Python 3.14")
    load_time = page.locator("#load-time").inner_text()
    assert load_time.endswith(" s")
    assert 0 < float(load_time.removesuffix(" s")) < 90
    assert problems.all == []


def test_a_task_runs_in_the_worker_and_its_result_is_shown(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    run_in_worker(page, "primes", {"n": "2000000"})
    expect(page.locator("#result")).to_contain_text("148,933 primes up to 2,000,000")
    assert problems.all == []


def test_the_page_is_cross_origin_isolated(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    assert page.evaluate("crossOriginIsolated") is True
    assert page.evaluate("typeof SharedArrayBuffer") == "function"


def test_every_request_stays_on_the_page_origin(page: Page, server: RunningServer) -> None:
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    # Context-level events also see the worker's own fetches (Pyodide, the wheel, the lockfile).
    page.context.on("request", record)
    open_page(page, server)
    run_in_worker(page, "primes", {"n": "100000"})
    assert any(url.endswith("pyodide.asm.wasm") for url in requested)
    assert any(url.endswith(".whl") for url in requested)
    foreign = [url for url in requested if urlsplit(url).netloc != urlsplit(server.url).netloc]
    assert foreign == []


def test_the_socket_says_hello_first(page: Page, server: RunningServer) -> None:
    page.goto(server.url)
    first = page.evaluate(
        """url => new Promise((resolve, reject) => {
            const socket = new WebSocket(url);
            socket.onmessage = (event) => { resolve(event.data); socket.close(); };
            socket.onerror = () => reject(new Error("socket error"));
        })""",
        server.ws_url,
    )
    message = json.loads(first)
    assert message["type"] == "hello"
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")


def test_responses_carry_the_isolation_and_security_headers(
    page: Page, server: RunningServer
) -> None:
    response = page.goto(server.url)
    assert response is not None
    headers = response.headers
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-embedder-policy"] == "require-corp"
    assert "default-src 'self'" in headers["content-security-policy"]
    wasm = page.request.get(f"{server.origin}/pyodide/pyodide.asm.wasm")
    assert wasm.headers["content-type"] == "application/wasm"
    assert "max-age" in wasm.headers["cache-control"]
