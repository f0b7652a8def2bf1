"""What the tests share besides fixtures: a real server process, page helpers, browser settings.

End-to-end tests use the site `python3 build.py test` builds into dist/, the server started exactly
as users start it (`python -m server ...`, a separate process on a loopback port) and pytest-
playwright's `page`, launched on Playwright's own Chromium when installed, else the system's.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
READY_LINE = "Offload is serving "
STARTUP_TIMEOUT = 30.0
# Pyodide's first boot compiles 10 MB of wasm; on a busy 2-core machine that can take a while.
WORKER_READY_TIMEOUT_MS = 90_000

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A `python -m server` process on a loopback port, with its logs in files."""

    port: int
    data_dir: Path
    log_dir: Path
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> RunningServer:
        """Start the process and wait until it says it is serving."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stdout = self.log_dir / "stdout.log"
        args = [
            *(sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(self.port)),
            *("--data-dir", str(self.data_dir), "--dist", str(DIST), *self.extra_args),
        ]
        with stdout.open("wb") as out, (self.log_dir / "stderr.log").open("wb") as err:
            self.process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if READY_LINE in stdout.read_text():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start: {self.stderr()}")
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start in {STARTUP_TIMEOUT} s: {self.stderr()}")

    def stderr(self) -> str:
        path = self.log_dir / "stderr.log"
        return path.read_text() if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait for the process to end; returns its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """`kill -9`: no shutdown handlers run, nothing is flushed."""
        self.stop(signal.SIGKILL)

    def restart(self) -> RunningServer:
        self.stop()
        return self.start()


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
