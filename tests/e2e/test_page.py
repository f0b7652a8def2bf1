"""The teaching page shows what blocking the main thread does, and what a worker fixes.

The frame-gap bounds here are generous sanity bounds (a frozen page vs a smooth one); the exact
figures are the benchmark's business (`python3 build.py bench`).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support import ROOT, PageProblems, RunningServer, ServerFactory, open_page

# Not test-results/: pytest-playwright empties that folder on each run.
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def longest_gap_ms(page: Page, where: str) -> float:
    """The longest frame gap of the last run, once the page shows the one of a run `where`
    ("main thread" or "worker"): it is written after the run, when its last frames are in."""
    last_gap = page.locator("#last-gap")
    expect(last_gap).to_contain_text(f"({where})")
    return float(last_gap.get_attribute("data-ms") or "nan")


def run_and_wait(page: Page, button: str, timeout_ms: int = 120_000) -> None:
    """Press `button` and wait for the run to end; a main-thread run that would freeze the page
    for long asks first (how long depends on the machine), and is then confirmed.

    The end is the run's row in the runs table, the last thing a run writes (after its result,
    its frame gap and the buttons): Cancel is disabled before a run starts too (while a
    main-thread run's freeze is estimated, or its warning is open), so it cannot say a run ended.
    """
    rows = page.locator("#runs tr")
    before = rows.count()
    page.get_by_role("button", name=button).click()
    if button == "Run on main thread":
        # Either the warning opens or the run starts (Cancel enabled), or it already ended.
        decided = page.locator(
            f"#main-thread-warning[open], #cancel:enabled, #runs tr:nth-child({before + 1})"
        )
        expect(decided.first).to_be_attached(timeout=timeout_ms)
        if page.locator("#main-thread-warning[open]").count():
            page.get_by_role("button", name="Freeze the page anyway").click()
    expect(rows).to_have_count(before + 1, timeout=timeout_ms)


def set_code(page: Page, code: str) -> None:
    """Replace the code in the editor (as a paste would: no auto-indent or closing brackets)."""
    page.locator(".cm-content").wait_for()
    page.evaluate(
        """async (code) => {
            const { EditorView } = await import("/vendor/npm/@codemirror/view/dist/index.js");
            const host = document.querySelector(".code-editor-host");
            const view = EditorView.findFromDOM(host.shadowRoot.querySelector(".cm-editor"));
            view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
        }""",
        code,
    )


def cancel_a_long_run_then_run_again(page: Page) -> None:
    """Start a run far too long to wait for, cancel it, then show the workers still compute."""
    page.get_by_label("Task").select_option("montecarlo_pi")
    page.locator("#params [name='samples']").fill("500000000")
    page.get_by_role("button", name="Run in worker").click()
    # The worker's first progress report: the job is under way, so Cancel reaches it. ("0 %" is
    # there from the click on, before the job starts, when a click on Cancel is not yet heard.)
    expect(page.locator("#progress")).not_to_have_js_property("value", 0)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_disabled(timeout=5_000)
    # Asked for, so said plainly and not as a red failure.
    expect(page.locator("#result .cancelled")).to_contain_text("Cancelled after")
    expect(page.locator("#result .bad")).to_have_count(0)
    expect(page.locator("#runs tr").first).to_contain_text("(cancelled)")

    page.get_by_label("Task").select_option("primes")
    page.locator("#params [name='n']").fill("1000")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")


def test_controls_are_found_by_their_accessible_names(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    expect(page.get_by_label("Task")).to_be_visible()
    expect(page.get_by_role("button", name="Run on main thread")).to_be_enabled()
    expect(page.get_by_role("button", name="Run in worker")).to_be_enabled()
    expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
    expect(page.locator("#python-version")).to_contain_text("Python 3.14")
    assert problems.all == []


def test_the_main_thread_freezes_and_the_worker_does_not(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    run_and_wait(page, "Run on main thread")
    main_gap = longest_gap_ms(page, "main thread")
    expect(page.locator("#result .ok")).to_contain_text("on the main thread")

    run_and_wait(page, "Run in worker")
    worker_gap = longest_gap_ms(page, "worker")
    expect(page.locator("#result .ok")).to_contain_text("in the worker")

    assert main_gap >= 500, f"a main-thread run should freeze the page; longest gap {main_gap} ms"
    # Relative, not a fixed bound: a loaded machine lengthens every frame, but only the
    # main-thread run stops them for its whole length (the benchmark measures the real figures).
    assert worker_gap < main_gap / 2, (
        f"a worker run should keep frames coming; longest gap {worker_gap} ms vs {main_gap} ms"
    )
    rows = page.locator("#runs tr")
    expect(rows).to_have_count(2)
    assert problems.all == []


def test_a_chart_that_cannot_load_is_named_and_the_page_still_computes(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    # As uPlot's module does under the C locale (`new Intl.NumberFormat("C")`).
    page.route(
        "**/vendor/uplot.mjs",
        lambda route: route.fulfill(
            content_type="text/javascript",
            body='throw new RangeError("Incorrect locale information provided");',
        ),
    )
    open_page(page, server)
    expect(page.locator("#timeline")).to_contain_text(
        "chart unavailable: RangeError: Incorrect locale information provided"
    )
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .ok")).to_contain_text("in the worker")
    assert problems.all == []


def test_cancel_stops_a_worker_run_and_the_worker_runs_again(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    open_page(page, server)
    cancel_a_long_run_then_run_again(page)
    assert problems.all == []


def test_a_python_error_shows_its_traceback(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("run_code")
    set_code(page, "def f():\n    return 1 / 0\n\nf()\n")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .bad")).to_contain_text("ZeroDivisionError")
    expect(page.locator("#traceback")).to_contain_text("return 1 / 0")


def test_a_bad_parameter_is_refused_before_anything_runs(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("primes")
    page.locator("#params [name='n']").fill("-5")
    page.get_by_role("button", name="Run in worker").click()
    expect(page.locator("#form-error")).to_contain_text("n:")
    expect(page.get_by_role("button", name="Cancel")).to_be_disabled()


def test_the_mandelbrot_image_is_drawn(page: Page, server: RunningServer) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("mandelbrot")
    page.locator("#params [name='width']").fill("200")
    page.locator("#params [name='height']").fill("120")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .ok")).to_contain_text("200 \u00d7 120 pixels")
    lit = page.evaluate(
        """() => {
            const canvas = document.getElementById("image");
            const { width, height } = canvas;
            const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            let lit = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2]) lit++;
            return lit;
        }"""
    )
    assert lit > 0


def test_the_socket_panel_shows_reconnecting_and_then_open_again(
    page: Page, server_factory: ServerFactory, problems: PageProblems
) -> None:
    own = server_factory()
    open_page(page, own)
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    expect(page.locator("#handshake-text")).to_contain_text("Sec-WebSocket-Accept")
    own.stop()  # SIGTERM: the server says goodbye with 1001 before it exits
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#frame-log")).to_contain_text("closed with 1001 (going away")
    own.start()
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open", timeout=30_000)
    # The worker never depended on the server: it still computes.
    page.get_by_label("Task").select_option("primes")
    page.locator("#params [name='n']").fill("1000")
    run_and_wait(page, "Run in worker")
    expect(page.locator("#result .ok")).to_contain_text("168 primes")
    # Only what a dropped connection logs (the failed reconnect attempts) is allowed.
    assert [e for e in problems.all if "WebSocket" not in e and "ERR_CONNECTION" not in e] == []


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop-1280x800", (1280, 800)), ("phone-390x844", (390, 844))],
)
def test_screenshots_and_accessibility_at_both_sizes(
    browser: Browser, server: RunningServer, name: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    # bypass_csp lets the test inject axe-core; the page itself never runs inline script.
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_page(page, server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # The lesson in one picture: the default task on the main thread, then in the worker.
        run_and_wait(page, "Run on main thread")
        run_and_wait(page, "Run in worker")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        page.get_by_label("Task").select_option("mandelbrot")
        page.locator("#params [name='width']").fill("480")
        page.locator("#params [name='height']").fill("320")
        run_and_wait(page, "Run in worker")
        page.screenshot(path=str(ARTIFACTS / f"{name}-mandelbrot-full.png"), full_page=True)
        page.add_script_tag(path=str(AXE))
        report = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))"
        )
        serious = [v for v in report if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        horizontal_overflow = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        assert not horizontal_overflow, "the page scrolls sideways"
        assert errors == []
    finally:
        context.close()


def test_without_isolation_the_page_says_so_and_cancel_restarts_the_worker(
    page: Page, server_factory: ServerFactory, problems: PageProblems
) -> None:
    unisolated = server_factory(extra_args=["--no-isolation"])
    open_page(page, unisolated)
    assert page.evaluate("crossOriginIsolated") is False
    expect(page.locator("#isolation")).to_have_text("not isolated")
    expect(page.locator("#isolation-note")).to_contain_text("Cancel has to restart the worker")
    # A secure context (loopback) without the headers: the note blames them, not the context.
    expect(page.get_by_role("note")).to_contain_text("Secure, but not cross-origin isolated")

    cancel_a_long_run_then_run_again(page)
    assert problems.all == []


@pytest.mark.parametrize("button", ["Run in worker", "Run on main thread"])
def test_what_your_code_prints_is_shown(page: Page, server: RunningServer, button: str) -> None:
    open_page(page, server)
    page.get_by_label("Task").select_option("run_code")
    set_code(page, "for i in range(3):\n    print('line', i)\n6 * 7")
    run_and_wait(page, button)
    expect(page.get_by_label("What the code printed")).to_have_text("line 0\nline 1\nline 2\n")
    expect(page.locator("#result .ok")).to_contain_text("returned 42")
