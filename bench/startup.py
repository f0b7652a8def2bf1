"""Start-up rows: a worker restored from a memory snapshot against a bare loadPyodide worker, and
a pool started on page load against the same pool already booted.

Warm means a second visit in the same *persistent* browser profile: Playwright's `new_context()`
keeps no HTTP cache of the 9.6 MB wasm (nor Cache Storage across contexts), so each repetition
launches Chromium on a fresh profile folder and visits the benchmark page several times in it.
Cold is the first visit of a fresh profile: nothing cached, no snapshot stored yet, so our worker
boots from scratch and makes the snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import BrowserContext, Page

from bench.browser import BENCH_ARGS, Browser
from bench.plan import Plan
from bench.pyscript import pyscript_site
from bench.rows import REPORT, Row, at_most, median
from support.browser import CHROMIUM_ARGS, WORKER_READY_TIMEOUT_MS, chromium_executable

# The task for "first result after page load": small, so the figure is mostly start-up.
FIRST_TASK = ("primes", {"n": 100_000})

WAIT_STORED = """async () => {
  const snapshot = await import("/worker/snapshot.js");
  for (let i = 0; i < 1200; i++) {
    if (await snapshot.hasSnapshot()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}"""


# V8 writes a module's optimised code to the wasm code cache 2 s after its last optimising
# compile (--wasm-caching-timeout-ms); wait a little longer before the first visit ends.
CODE_CACHE_DELAY_MS = 4_000


def first_visit(context: BrowserContext, url: str) -> dict[str, Any]:
    """The first visit of a profile: our worker boots from scratch and makes the snapshot. The
    visit lasts until the snapshot is stored and that worker's warm-up has ended, plus V8's delay
    before it caches the optimised code (as any visit a person reads a page in does); returns the
    worker's start-up (as startOffloadWorker) and its warm-up."""
    page = visit(context, url)
    first: dict[str, Any] = call(page, "startOffloadWorker")
    if not page.evaluate(WAIT_STORED):
        raise RuntimeError("the first worker stored no snapshot")
    first["warmup"] = call(page, "offloadWarmup", WORKER_READY_TIMEOUT_MS)
    page.wait_for_timeout(CODE_CACHE_DELAY_MS)
    page.close()
    return first


@contextmanager
def profile(browser: Browser) -> Iterator[BrowserContext]:
    """Chromium on a fresh profile folder that keeps its HTTP cache and Cache Storage."""
    with tempfile.TemporaryDirectory(prefix="offload-bench-profile-") as folder:
        context = browser.browser.browser_type.launch_persistent_context(
            folder,
            executable_path=chromium_executable(),
            args=[*CHROMIUM_ARGS, *BENCH_ARGS],
            headless=True,
        )
        try:
            yield context
        finally:
            context.close()


def visit(context: BrowserContext, url: str) -> Page:
    """Open `url` in a new tab and wait until its script says it is ready."""
    page = context.new_page()
    page.set_default_timeout(WORKER_READY_TIMEOUT_MS * 2)
    page.goto(url)
    page.locator("body[data-ready='true']").wait_for(state="attached", timeout=30_000)
    return page


def call(page: Page, name: str, *args: object) -> Any:
    return page.evaluate(f"(args) => globalThis.offloadBench.{name}(...args)", list(args))


def phases(timings: dict[str, float]) -> str:
    return ", ".join(f"{name} {ms:.0f} ms" for name, ms in timings.items())


def snapshot_startup(browser: Browser, plan: Plan) -> list[Row]:
    """Worker ready from a snapshot ÷ a bare loadPyodide worker and ÷ PyScript, warm and cold."""
    with pyscript_site() as pyscript_url:
        return measure_startup(browser, plan, f"{pyscript_url}bench/web/pyscript.html")


def measure_startup(browser: Browser, plan: Plan, pyscript_url: str) -> list[Row]:
    bench_url = browser.url
    pyscript_cold: list[float] = []
    pyscript_warm: list[float] = []
    ours_cold: list[float] = []
    ours_warm: list[float] = []
    bare_cold: list[float] = []
    bare_warm: list[float] = []
    last: dict[str, Any] = {}
    for _ in range(plan.startup_reps):
        with profile(browser) as context:
            first = first_visit(context, bench_url)
            for _ in range(2):  # warm visits, ours and bare interleaved
                page = visit(context, bench_url)
                warm = call(page, "startOffloadWorker")
                page.close()
                if warm["boot"]["source"] != "snapshot":
                    raise RuntimeError(f"a second visit did not restore: {warm['boot']}")
                page = visit(context, bench_url)
                bare_warm.append(call(page, "startBareWorker", False)["ms"])
                page.close()
                ours_warm.append(warm["ms"])
            ours_cold.append(first["ms"])
            last = {"cold": first, "warm": warm}
        with profile(browser) as context:
            page = visit(context, bench_url)
            bare_cold.append(call(page, "startBareWorker", False)["ms"])
            page.close()
        with profile(browser) as context:  # PyScript: its own origin, so its own profile
            for times in (pyscript_cold, pyscript_warm, pyscript_warm):
                page = visit(context, pyscript_url)
                times.append(page.evaluate("offloadPyScript.firstOutput()")["ms"])
                page.close()
    reps = f"median of {len(ours_warm)} warm, {len(ours_cold)} cold"
    return [
        Row(
            "start-up",
            "warm: from snapshot ÷ bare loadPyodide",
            median(ours_warm),
            median(bare_warm),
            "ms",
            at_most(0.35),
            "PythonWorker.start() to ready, restored from the snapshot the first visit made, ÷ new "
            "Worker to a bare loadPyodide ready; later visits in one persistent profile (HTTP "
            f"cache warm), interleaved; {reps}. Last: {phases(last['warm']['timings'])}",
        ),
        Row(
            "start-up",
            "warm: from snapshot ÷ PyScript 0.7.31 worker first output",
            median(ours_warm),
            median(pyscript_warm),
            "ms",
            at_most(0.5),
            "ours as above ÷ PyScript's PyWorker on the same Pyodide files, from the call to its "
            "worker's first answer on the page (its page served without our CSP: it needs "
            f"unsafe-eval), later visits in its own persistent profile; {reps}. PyScript cold: "
            f"{median(pyscript_cold):.0f} ms",
        ),
        Row(
            "start-up",
            "cold: first visit (makes the snapshot) ÷ bare loadPyodide",
            median(ours_cold),
            median(bare_cold),
            "ms",
            REPORT,
            "first visit of a fresh profile (nothing cached): ours boots from scratch, unpacks the "
            f"wheel and takes the snapshot (stored after ready); {reps}. "
            f"Last: {phases(last['cold']['timings'])}",
        ),
    ]


def pool_from_page_load(browser: Browser, plan: Plan) -> list[Row]:
    """A pool of 2 started after first paint: first result since navigation ÷ on a booted pool."""
    startup_url = browser.url.replace("index.html", "startup.html")
    mandelbrot: list[dict[str, Any]] = []
    first: list[dict[str, Any]] = []
    with profile(browser) as context:
        made = first_visit(context, browser.url)
        for _ in range(plan.pool_reps):
            for task, params, into in (
                ("mandelbrot", plan.load_pool_params, mandelbrot),
                (*FIRST_TASK, first),
            ):
                page = visit(context, startup_url)
                into.append(
                    page.evaluate("(a) => offloadStartup.firstResult(...a)", [task, params])
                )
                page.close()

    def boots(run: dict[str, Any]) -> str:
        return "; ".join(f"{b['boot']['source']}: {phases(b['timings'])}" for b in run["boots"])

    last = first[-1]
    # The first run on the freshly restored pool, from its first worker being ready (its parts
    # started then) to the image, ÷ the same run on the booted pool: what the page's start-up
    # costs beyond the boots themselves (the second worker still boots during the first run).
    first_runs = [run["doneAt"] - run["firstReadyAt"] for run in mandelbrot]
    warmup = made.get("warmup") or {}
    pairs = ", ".join(
        f"{a:.0f}/{run['excludedMs']:.0f}" for a, run in zip(first_runs, mandelbrot, strict=True)
    )
    return [
        Row(
            "pool",
            "2 workers from page load: startup included ÷ excluded",
            median([run["doneAt"] for run in mandelbrot]),
            median([run["excludedMs"] for run in mandelbrot]),
            "ms",
            at_most(1.2),
            f"mandelbrot {plan.load_pool_params} split over a pool of 2 that the page starts "
            "after its first paint (warm profile, snapshot stored): navigation start to the "
            "image, asked for as soon as the page loaded (parts start on the first worker "
            "ready), ÷ the same run on the booted pool; last: pool started at "
            f"{mandelbrot[-1]['startedAt']:.0f} ms, all ready at {mandelbrot[-1]['readyAt']:.0f} "
            f"ms, image at {mandelbrot[-1]['doneAt']:.0f} ms; median of {len(mandelbrot)}. The "
            "profile's first visit lasted until its snapshot was stored and the maker's warm-up "
            f"({warmup.get('steps', '?')} of {warmup.get('of', '?')} steps, "
            f"{warmup.get('ms', 0):.0f} ms) was over, plus {CODE_CACHE_DELAY_MS} ms for V8 to "
            "cache the optimised code",
        ),
        Row(
            "pool",
            "2 workers from page load: first run ÷ second run",
            median(first_runs),
            median([run["excludedMs"] for run in mandelbrot]),
            "ms",
            REPORT,
            "the same runs as the row above: the first from the first worker ready to the image "
            "(parts start then; the second worker joins when it is ready) ÷ the second on the "
            f"booted pool; each: {pairs} ms",
        ),
        Row(
            "start-up",
            "first task result after page load (warm)",
            median([run["doneAt"] for run in first]),
            None,
            "ms",
            REPORT,
            f"{FIRST_TASK[0]} {FIRST_TASK[1]} on the pool of 2, navigation start to its result; "
            f"pool started at {last['startedAt']:.0f} ms, ready at {last['readyAt']:.0f} ms, "
            f"result at {last['doneAt']:.0f} ms; boots: {boots(last)}; median of {len(first)}",
        ),
    ]
