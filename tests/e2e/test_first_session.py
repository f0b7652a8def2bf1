"""A first session with the page, as a student, a teacher and a developer meet it: the traps
(an empty field, the main thread, sharing what you typed) and what each idea looks like live.
"""

from __future__ import annotations

import asyncio
import re
import threading
import urllib.request
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_page import ARTIFACTS, AXE, run_and_wait, set_code
from tests.support import WORKER_READY_TIMEOUT_MS, PageProblems, RunningServer, open_page

SECRET = "my_secret_homework_4217"


class SocketListener(threading.Thread):
    """A plain WebSocket client (not a browser) that records every text frame the server sends."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.frames: list[str] = []
        self.received = threading.Condition()
        self.connected = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self.listen())

    async def listen(self) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(self.url) as ws:
            self.connected.set()
            while not self.stopping.is_set():
                try:
                    message = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                with self.received:
                    self.frames.append(message.data)
                    self.received.notify_all()

    def wait_for_frame(self, text: str, timeout_s: float = 60) -> None:
        """Wait until a frame containing `text` has arrived."""
        with self.received:
            arrived = self.received.wait_for(
                lambda: any(text in frame for frame in self.frames), timeout_s
            )
        assert arrived, f"no frame with {text} in {self.frames}"

    def stop(self) -> list[str]:
        self.stopping.set()
        self.join(timeout=5)
        return self.frames


def stored_results(server: RunningServer) -> str:
    with urllib.request.urlopen(f"{server.origin}/api/results") as response:
        return str(response.read().decode())


def choose_code_task(page: Page) -> None:
    page.get_by_label("Task").select_option("run_code")
    page.locator(".cm-content").wait_for()


# --- the student ----------------------------------------------------------------------------------


def test_an_empty_pool_size_is_refused_at_the_field_and_nothing_gets_stuck(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("mandelbrot")
    pool = page.get_by_label("Workers in the pool")
    pool.fill("")
    pool.press("Tab")  # the change event: this used to start "0 workers" for ever
    expect(pool).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pool-size-error")).not_to_be_empty()
    expect(page.locator("#worker-status")).to_have_attribute("data-state", "ready")
    page.get_by_role("button", name="Run in worker").click()
    expect(page.locator("#form-error")).to_contain_text("Workers in the pool:")
    expect(page.get_by_role("button", name="Run in worker")).to_be_enabled()
    pool.fill("2")  # the size it had: the pool is kept, not restarted
    expect(pool).not_to_have_attribute("aria-invalid", "true")
    pool.press("Tab")
    page.locator("#params [name='width']").fill("120")
    page.locator("#params [name='height']").fill("80")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .ok")).to_contain_text("120 \u00d7 80 pixels")
    assert problems.all == []


def test_a_bad_parameter_is_marked_at_its_field(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("primes")
    page.locator("#params [name='n']").fill("")
    page.get_by_role("button", name="Run in worker").click()
    field = page.locator("#params [name='n']")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    described = field.get_attribute("aria-describedby") or ""
    assert "param-primes-n-error" in described.split()


def test_the_editor_runs_with_ctrl_enter_and_keeps_the_code_across_switches_and_reloads(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    choose_code_task(page)
    editor = page.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("total = 0\nfor i in range(4):\n")
    page.keyboard.press("Tab")  # indents (it is already indented once after the colon)
    page.keyboard.type("total += i\n")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("total * 7")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#result .ok")).to_contain_text("returned 42", timeout=60_000)
    expect(editor).to_be_focused()  # the run was started from the keyboard: focus stays put

    page.get_by_label("Task").select_option("primes")
    choose_code_task(page)
    expect(page.locator(".cm-content")).to_contain_text("total * 7")
    page.reload()
    open_page(page, server)
    choose_code_task(page)
    expect(page.locator(".cm-content")).to_contain_text("total += i")
    assert problems.all == []


def test_escape_then_tab_leaves_the_editor(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    choose_code_task(page)
    page.locator(".cm-content").click()
    page.keyboard.press("Tab")
    expect(page.locator(".cm-content")).to_be_focused()  # Tab indents inside the editor
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.locator(".cm-content")).not_to_be_focused()


def test_traceback_line_numbers_match_the_editors(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    choose_code_task(page)
    set_code(page, "x = 1\ny = 2\n\nz = x / (y - 2)\n")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#traceback")).to_contain_text("line 4")
    expect(page.locator("#traceback")).to_contain_text("z = x / (y - 2)")
    gutter = page.locator(".cm-lineNumbers .cm-gutterElement", has_text="4")
    expect(gutter).to_have_count(1)


def test_with_sharing_off_nothing_typed_in_the_editor_reaches_the_server(
    page: Page, server_factory: Any, problems: PageProblems
) -> None:
    own = server_factory()
    listener = SocketListener(own.ws_url)
    listener.start()
    assert listener.connected.wait(10)
    open_page(page, own)
    choose_code_task(page)
    expect(page.get_by_label("Share my results with other pages")).not_to_be_checked()
    set_code(page, f"print('{SECRET}')\n'{SECRET}'")
    expect(page.locator("#share-preview")).to_have_text("Nothing is sent.")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .ok")).to_contain_text(SECRET)
    # Something the page does share still goes out, so the listener was really listening.
    page.get_by_label("Task").select_option("primes")
    expect(page.get_by_label("Share my results with other pages")).to_be_checked()
    page.locator("#params [name='n']").fill("1000")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#shared-results")).to_contain_text("primes")
    # The server broadcasts a result after acking it to the page: wait for the listener's copy.
    # A result with the secret, sent before this one on the same socket, would have come first.
    listener.wait_for_frame('"primes"')
    frames = listener.stop()
    assert any('"primes"' in frame for frame in frames), frames
    assert not [frame for frame in frames if SECRET in frame]
    assert SECRET not in stored_results(own)
    assert '"primes"' in stored_results(own)
    assert problems.all == []


def test_sharing_code_is_a_choice_and_the_preview_shows_what_leaves(
    page: Page, server_factory: Any
) -> None:
    own = server_factory()
    open_page(page, own)
    choose_code_task(page)
    set_code(page, f"'{SECRET}'")
    page.get_by_label("Share my results with other pages").check()
    page.locator(".share-preview summary").click()
    expect(page.locator("#share-preview")).to_contain_text(SECRET)
    run_and_wait(page, "Run in worker")
    expect(page.locator("#share-preview")).to_contain_text("Sent:")
    expect(page.locator("#shared-results")).to_contain_text("run_code")
    assert SECRET in stored_results(own)


def test_your_own_code_on_the_main_thread_warns_first_and_can_go_to_a_worker(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    choose_code_task(page)
    set_code(page, "print('running')\nwhile True:\n    pass")
    page.get_by_role("button", name="Run on main thread").click()
    dialog = page.get_by_role("dialog", name="Freeze the page?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("may run for ever")
    page.get_by_role("button", name="Run in a worker instead").click()
    expect(page.locator("#result")).to_contain_text("in the worker")
    # What the code prints says the job is under way: a Cancel clicked before the page has
    # handed it to a worker (the status is written a frame earlier) would not be heard.
    expect(page.get_by_label("What the code printed")).to_have_text("running\n")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#result .cancelled")).to_be_visible(timeout=10_000)
    assert problems.all == []


def test_huge_parameters_on_the_main_thread_get_an_estimate_first(
    page: Page, server: RunningServer
) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("montecarlo_pi")
    page.locator("#params [name='samples']").fill("2000000000")
    page.get_by_role("button", name="Run on main thread").click()
    dialog = page.get_by_role("dialog", name="Freeze the page?")
    expect(dialog).to_be_visible(timeout=60_000)
    expect(dialog).to_contain_text("would freeze the page for about")
    expect(dialog).to_contain_text("times smaller took")
    page.get_by_role("button", name="Don't run").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Run on main thread")).to_be_enabled()
    expect(page.locator("#runs tr")).to_have_count(0)


def test_a_main_thread_image_does_not_claim_it_came_from_a_worker(
    page: Page, server: RunningServer
) -> None:
    open_page(page, server)
    said = page.evaluate(
        """async () => {
            const { describeValue } = await import("/web/run/result-view.js");
            const params = { width: 2, height: 1 };
            return [describeValue("mandelbrot", params, new ArrayBuffer(8), "main"),
                    describeValue("mandelbrot", params, new ArrayBuffer(8), "worker")];
        }"""
    )
    assert "main thread" in said[0]
    assert "worker" not in said[0]
    assert "moved from the worker" in said[1]


def test_click_me_is_visible_without_scrolling_on_a_laptop(
    browser: Browser, server: RunningServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = open_page(context.new_page(), server)
        expect(page.get_by_role("button", name="Click me")).to_be_in_viewport()
    finally:
        context.close()


def test_on_a_phone_the_ball_stays_in_sight_while_pressing_run(
    browser: Browser, server: RunningServer
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = open_page(context.new_page(), server)
        page.get_by_role("button", name="Run in worker").scroll_into_view_if_needed()
        expect(page.get_by_role("button", name="Run in worker")).to_be_in_viewport()
        expect(page.locator("#js-ball")).to_be_in_viewport()
    finally:
        context.close()


def test_starting_a_shared_job_joins_this_page(page: Page, server_factory: Any) -> None:
    own = server_factory()
    open_page(page, own)
    expect(page.locator("#job-hint")).to_contain_text("Join with this page")
    page.get_by_role("button", name="Start a shared job").click()
    expect(page.get_by_role("button", name="Join with this page")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#job-progress")).to_contain_text("done", timeout=240_000)
    assert int(page.locator("#job-mine").inner_text()) > 0


# --- the teacher ----------------------------------------------------------------------------------


def test_the_lifecycle_lights_up_live_and_closing_from_the_page_shows_the_handshake(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    # The closing handshake is this page's own only on a direct socket: in the default shared
    # mode the connection belongs to the shared worker and outlives this tab.
    page.goto(f"{server.url}?socket=direct")
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=WORKER_READY_TIMEOUT_MS)
    steps = page.locator("#lifecycle")
    expect(steps.locator("[data-step='upgrade']")).to_have_attribute("data-status", "done")
    expect(steps.locator("[data-step='switch']")).to_contain_text("Sec-WebSocket-Accept")
    expect(steps.locator("[data-step='open']")).to_have_attribute("aria-current", "step")
    expect(steps.locator("[data-step='open']")).to_contain_text("received on this connection")
    expect(page.locator("#ws-persistent")).to_contain_text("1 connection this session, open for")
    overhead = page.locator("#ws-overhead")
    expect(overhead).to_have_attribute("data-http", re.compile(r"^\d+$"))
    assert int(overhead.get_attribute("data-ws") or 0) < int(
        overhead.get_attribute("data-http") or 0
    )

    page.get_by_role("button", name="Close from this page").click()
    close = steps.locator("[data-step='close']")
    expect(close).to_contain_text("code 1000")
    expect(close).to_contain_text("clean close: yes")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "closed")
    page.get_by_role("button", name="Connect again").click()
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    expect(page.locator("#ws-persistent")).to_contain_text("2 connections this session")
    assert problems.all == []


def test_the_comparison_table_links_to_live_parts_that_exist(
    page: Page, server: RunningServer
) -> None:
    open_page(page, server)
    links = page.locator("table.compare a")
    assert links.count() >= 5
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(href).count() == 1, href
    for view in ("#dedicated-worker-view", "#shared-worker-view", "#service-worker-view"):
        expect(page.locator(view)).to_be_attached()


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop-1280x800", (1280, 800)), ("phone-390x844", (390, 844))],
)
def test_screenshots_of_the_editor_and_the_lifecycle_are_axe_clean(
    browser: Browser, server: RunningServer, name: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    try:
        open_page(page, server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        choose_code_task(page)
        set_code(
            page, "def f(n):\n    return sum(i * i for i in range(n))\n\nprint(f(10))\nf(1000)"
        )
        run_and_wait(page, "Run in worker")
        page.locator("#run-heading").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"{name}-editor.png"))
        page.locator("#lifecycle-heading").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"{name}-lifecycle.png"))
        page.add_script_tag(path=str(AXE))
        report = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))"
        )
        assert [v for v in report if v["impact"] in ("serious", "critical")] == []
        assert not page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
    finally:
        context.close()
