"""Fixtures for the worker's end-to-end tests: a page with /worker/client.js loaded and a worker.

The worker tests need no UI: they open the served page (for its origin and its isolation headers),
import the client module the way an app would, and drive it with `page.evaluate`. One page and one
worker per test module keep the suite from paying Pyodide's boot for every test; tests that
break the worker check that it comes back, which is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.support import RunningServer

# Reading past the end of wasm memory is a trap ("memory access out of bounds"): a real crash of
# the interpreter, not a Python exception. (Natively this would be a segfault; it only runs in
# the worker.)
CRASH = "import ctypes\nctypes.string_at(0xFFFFFFF0, 64)"

PRELUDE = """
const { PythonWorker, WorkerPool, PythonError, CancelledError, TimeoutError, WorkerCrashedError,
        splitRange } = window.offload;
const worker = window.worker;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The settled outcome of a promise as plain values: {ok, value} or {ok: false, name, ...}. */
const outcome = (promise) => promise.then(
  (value) => ({ ok: true, value }),
  (error) => ({ ok: false, name: error.name, type: error.type, message: error.message,
                traceback: error.traceback }),
);
/**
 * Start a job with `start(underWay)`, which passes `underWay` as the job's onProgress or onStdout;
 * cancel it once that is called (the job is running, not queued or still starting): how it
 * ended, what the next run gave, and how many workers were replaced (how fast a cancel is, the
 * benchmark measures).
 */
const cancelAndRunOn = async (start) => {
  const restarts = worker.restarts;
  let underWay;
  const running = new Promise((resolve) => { underWay = () => resolve(); });
  const job = start(underWay);
  await Promise.race([running, job.result.then(() => {}, () => {})]);
  job.cancel();
  const result = await outcome(job.result);
  const next = await worker.run("primes", { n: 1000 }).result;
  return { result, next, replaced: worker.restarts - restarts };
};
"""


class ClientPage:
    """A page with `window.offload` (the client module) and `window.worker` (a ready worker)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def run(self, body: str, arg: Any = None) -> Any:
        """Evaluate `body` as an async function of `arg`, with the PRELUDE's names in scope."""
        return self.page.evaluate(f"async (arg) => {{ {PRELUDE}\n{body}\n}}", arg)


@pytest.fixture(scope="module")
def client(browser: Browser, server: RunningServer) -> Iterator[ClientPage]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url)
    page.evaluate(
        """async () => {
            window.offload = await import("/worker/client.js");
            window.worker = await window.offload.PythonWorker.start();
        }"""
    )
    yield ClientPage(page)
    context.close()
