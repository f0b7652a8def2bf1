"""Fixtures shared by the whole suite: the built site, real servers on free ports, a real Chromium.

End-to-end tests use the site `python3 build.py test` builds into dist/, the server started exactly
as users start it (`python -m server ...`, a separate process on a loopback port) and pytest-
playwright's `page`, launched on Playwright's own Chromium when installed, else the system's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from support.browser import CHROMIUM_ARGS, chromium_executable
from tests.support import DIST, PageProblems, RunningServer, ServerFactory, free_port

# Playwright's sync API keeps an event loop running on the main thread for the whole session, which
# breaks every asyncio test that runs after it in the same process. So each test that touches the
# browser is marked `e2e`, and build.py runs `-m "not e2e"` and `-m e2e` as two pytest processes.
BROWSER_FIXTURES = frozenset({"page", "context", "browser", "browser_type", "problems"})

# Playwright's auto-waiting assertions give up after 5 s unless told otherwise. On a loaded machine
# (CI at load 2+ on 2 cores) a state the page reaches in milliseconds can take seconds; a wait whose
# state holds returns at once, so a longer bound costs time only to a test that fails anyway.
expect.set_options(timeout=30_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site; `python3 build.py test` builds it before pytest starts."""
    if not (DIST / "web" / "index.html").exists():
        pytest.fail("dist/ is missing: run the tests with `python3 build.py test`, which builds it")
    return DIST


@pytest.fixture
def server_factory(site: Path, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers with their own data dirs (or a given one); all are stopped after the test."""
    started: list[RunningServer] = []

    def start(data_dir: Path | None = None, extra_args: list[str] | None = None) -> RunningServer:
        index = len(started)
        server = RunningServer(
            port=free_port(),
            data_dir=data_dir or tmp_path / f"data-{index}",
            log_dir=tmp_path / f"server-{index}",
            extra_args=extra_args or [],
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server shared by the tests that only read from it."""
    base = tmp_path_factory.mktemp("shared-server")
    running = RunningServer(free_port(), base / "data", base / "logs").start()
    yield running
    running.stop()


# --- browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Use the system Chromium unless Playwright's own is installed (build.py decides)."""
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    executable = chromium_executable()
    if executable:
        args["executable_path"] = executable
    return args


@pytest.fixture
def problems(page: Page) -> PageProblems:
    """Collects console errors and page errors; tests assert it stays empty."""
    found = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.console_errors.append(f"{message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.page_errors.append(str(error)))
    return found
