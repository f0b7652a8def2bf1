"""What the tests share besides fixtures: page helpers, and (from support/) the server process.

End-to-end tests use the site `python3 build.py test` builds into dist/, the server started exactly
as users start it (`python -m server ...`, a separate process on a loopback port) and pytest-
playwright's `page`, launched on Playwright's own Chromium when installed, else the system's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

# The server process, the port and the browser settings live in support/ (the benchmark uses them
# too); they are re-exported here for the tests that import them from tests.support.
from support.browser import CHROMIUM_ARGS, WORKER_READY_TIMEOUT_MS
from support.server import DIST, ROOT, RunningServer, free_port

__all__ = [
    "CHROMIUM_ARGS",
    "DIST",
    "ROOT",
    "WORKER_READY_TIMEOUT_MS",
    "PageProblems",
    "RunningServer",
    "ServerFactory",
    "free_port",
    "open_page",
    "run_in_worker",
]

#: Starts a server: `factory(data_dir=None, extra_args=None) -> RunningServer` (see conftest).
ServerFactory = Callable[..., RunningServer]


@dataclass
class PageProblems:
    """Console errors and uncaught exceptions a page produced."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return self.console_errors + self.page_errors


def open_page(page: Page, server: RunningServer) -> Page:
    """Open the app and wait until the worker reports ready."""
    page.goto(server.url)
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
    return page


def run_in_worker(page: Page, task: str, params: dict[str, str], timeout_ms: int = 60_000) -> None:
    """Pick `task` in the form, fill `params`, press "Run in worker" and wait for the run to end."""
    page.get_by_label("Task").select_option(task)
    for name, value in params.items():
        page.locator(f"#params [name='{name}']").fill(value)
    page.get_by_role("button", name="Run in worker").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_disabled(timeout=timeout_ms)


# Starts a job from inside a page over a socket of its own (not the app's) and keeps, in
# window.finalProgress, a promise of the job's last progress message (returning the promise itself
# would make evaluate wait for the whole job).
START_JOB = """
({url, id, samples, chunkSamples, seed}) => {
 window.finalProgress = new Promise((resolve, reject) => {
  const socket = new WebSocket(url);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "hello") {
      socket.send(JSON.stringify({type: "job_start", id, samples,
                                  chunk_samples: chunkSamples, seed}));
    } else if (message.type === "job_progress" && message.done) {
      resolve(message);
      socket.close();
    } else if (message.type === "error") {
      reject(new Error(message.message));
    }
  };
}); }
"""


def start_job(
    page: Page, ws_url: str, job_id: str, *, chunks: int, chunk_samples: int, seed: int
) -> None:
    """Start job `job_id` of `chunks` chunks from `page` (see START_JOB); size and seed are the
    test's, so the total can be checked natively."""
    page.evaluate(
        START_JOB,
        {
            "url": ws_url,
            "id": job_id,
            "samples": chunks * chunk_samples,
            "chunkSamples": chunk_samples,
            "seed": seed,
        },
    )
