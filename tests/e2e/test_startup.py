"""Start-up from a memory snapshot, in a real Chromium: made once, restored after, never fatal.

The first worker that boots with no snapshot stored makes one (worker/snapshot.js) and keeps it in
the origin private file system; later workers of the same browser restore it. These tests open the
benchmark page, which starts no worker by itself, so each test decides which workers boot and in
what order.
Every test starts with the snapshot slot emptied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support import WORKER_READY_TIMEOUT_MS, RunningServer, open_page, run_in_worker

pytestmark = pytest.mark.e2e

# Small parameters for every task the worker offers (the test fails when a task is added without
# one here), plus runs that fail, so tracebacks are compared too.
RUNS: list[tuple[str, dict[str, object]]] = [
    ("primes", {"n": 100_000}),
    ("primes", {"n": -5}),
    ("montecarlo_pi", {"samples": 20_000, "seed": 3}),
    ("mandelbrot", {"width": 40, "height": 30, "max_iter": 60}),
    ("run_code", {"code": "print('hi')\nsum(range(10))"}),
    ("run_code", {"code": "def f():\n    return 1 / 0\nf()"}),
    # Files arrive as bytes: `text` becomes the ArrayBuffer `data` in the page (see `answers`).
    ("csv_summary", {"text": 'city;temp\nOslo;3.5\nRome;18\n"Nice, FR";\n'}),
    ("jsonl_summary", {"text": '{"a": 1, "b": "x"}\n{"a": 2.5}\n'}),
]

HELPERS = """
const { PythonWorker } = await import("/worker/client.js");
const snapshot = await import("/worker/snapshot.js");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wait until the maker stored its snapshot (storing happens after its `ready`). */
const stored = async () => {
  for (let i = 0; i < 1200; i++) {
    if (await snapshot.hasSnapshot()) return true;
    await sleep(100);
  }
  return false;
};
const digest = async (buffer) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", buffer))]
  .map((b) => b.toString(16).padStart(2, "0")).join("");
/** Replace the stored snapshot with `change(heap, meta)`'s result (meta: build, sha256, size). */
const rewrite = async (change) => {
  const { meta, heap } = await snapshot.readStored();
  const bytes = heap.slice();
  await change(bytes, meta);
  await snapshot.writeStored(meta, bytes);
};
/** A worker's boot: how it booted, its phases, and whether it still runs a task. */
const boot = async () => {
  const worker = await PythonWorker.start();
  const info = worker.info;
  const primes = await worker.run("primes", { n: 1000 }).result;
  // A maker stores its snapshot after `ready`: terminated before that, it would store none.
  if (info.boot.madeSnapshot && !(await stored())) throw new Error("the maker stored nothing");
  worker.terminate();
  return { boot: info.boot, timings: info.timings, primes };
};
/** Run every (task, params) on a worker: the value, or the error's name, message, traceback. */
const answers = async (worker, runs) => {
  const out = [];
  for (const [task, given] of runs) {
    const { text, ...rest } = given;
    const params = text === undefined
      ? rest : { ...rest, data: new TextEncoder().encode(text).buffer };
    try {
      let value = await worker.run(task, params).result;
      if (value instanceof ArrayBuffer) value = { sha256: await digest(value) };
      out.push({ ok: true, value });
    } catch (error) {
      out.push({ ok: false, name: error.name, type: error.type ?? null, message: error.message,
                 traceback: error.traceback ?? null });
    }
  }
  return out;
};
/** A worker that boots with the maker's lock held elsewhere and no snapshot: a normal boot. */
const normalWorker = async () => {
  let release;
  const held = new Promise((resolve) => {
    navigator.locks.request("offload-snapshot-maker", () => new Promise((r) => {
      release = r;
      resolve();
    }));
  });
  await held;
  try {
    return await PythonWorker.start();
  } finally {
    release();
  }
};
"""


class StartupPage:
    """The benchmark page (no worker of its own), with helpers to boot workers and edit the slot."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def run(self, body: str, arg: Any = None) -> Any:
        """Evaluate `body` as an async function of `arg`, with HELPERS in scope."""
        return self.page.evaluate(f"async (arg) => {{ {HELPERS}\n{body}\n}}", arg)


@pytest.fixture(scope="module")
def startup_page(browser: Browser, server: RunningServer) -> Iterator[StartupPage]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WORKER_READY_TIMEOUT_MS * 4)
    page.goto(f"{server.origin}/bench/web/index.html")
    yield StartupPage(page)
    context.close()


@pytest.fixture
def visit(startup_page: StartupPage) -> StartupPage:
    """The page with no snapshot stored and no record of a failed store."""
    startup_page.run("await snapshot.clearSnapshots();")
    return startup_page


def make_snapshot(visit: StartupPage) -> dict[str, Any]:
    """Boot the first worker (it makes the snapshot) and wait until the snapshot is stored."""
    first: dict[str, Any] = visit.run(
        "const first = await boot();"
        "if (!(await stored())) throw new Error("
        "  `no snapshot stored: ${await snapshot.lastStoreFailure()}`);"
        "return first;"
    )
    return first


def test_the_first_worker_makes_a_snapshot_and_the_next_ones_restore_it(
    visit: StartupPage,
) -> None:
    first = make_snapshot(visit)
    second, third = visit.run("return [await boot(), await boot()];")
    assert first["boot"] == {"source": "scratch", "madeSnapshot": True, "note": None}
    assert "makeSnapshot" in first["timings"]
    for restored in (second, third):
        assert restored["boot"] == {"source": "snapshot", "madeSnapshot": False, "note": None}
        assert set(restored["timings"]) == {"importRuntime", "loadRuntime", "loadWheel", "total"}
        assert restored["primes"] == {"count": 168}
    assert first["primes"] == {"count": 168}


def test_a_second_visit_boots_from_the_snapshot(visit: StartupPage, server: RunningServer) -> None:
    make_snapshot(visit)
    page = visit.page.context.new_page()
    try:
        page.set_default_timeout(WORKER_READY_TIMEOUT_MS * 2)
        page.goto(f"{server.origin}/bench/web/index.html")
        again = StartupPage(page).run("return await boot();")
    finally:
        page.close()
    assert again["boot"]["source"] == "snapshot"
    assert again["primes"] == {"count": 168}


def test_restored_workers_answer_every_task_exactly_like_a_normal_boot(
    visit: StartupPage,
) -> None:
    got = visit.run(
        """
        const normal = await normalWorker();
        const tasks = normal.info.tasks.map((task) => task.name);
        const maker = await PythonWorker.start();
        await stored();
        const restored = await PythonWorker.start();
        const result = {
          tasks,
          boots: [normal.info.boot, maker.info.boot, restored.info.boot],
          normal: await answers(normal, arg),
          maker: await answers(maker, arg),
          restored: await answers(restored, arg),
        };
        for (const worker of [normal, maker, restored]) worker.terminate();
        return result;
        """,
        RUNS,
    )
    assert sorted(got["tasks"]) == sorted({task for task, _ in RUNS})
    assert [b["source"] for b in got["boots"]] == ["scratch", "scratch", "snapshot"]
    assert [b["madeSnapshot"] for b in got["boots"]] == [False, True, False]
    assert got["restored"] == got["normal"] == got["maker"]
    failures = [answer for answer in got["normal"] if not answer["ok"]]
    assert [f["type"] for f in failures] == ["ParameterError", "ZeroDivisionError"]
    # The tasks' source lines are in the traceback: the restored file system has the wheel's files.
    assert 'n = N.read("primes", params)' in failures[0]["traceback"]


def test_seeded_monte_carlo_depends_on_the_seed_only_and_unseeded_random_differs(
    visit: StartupPage,
) -> None:
    make_snapshot(visit)
    got = visit.run(
        """
        const [a, b] = [await PythonWorker.start(), await PythonWorker.start()];
        const pi = (worker, seed) =>
          worker.run("montecarlo_pi", { samples: 50_000, seed }).result;
        const draw = async (worker) =>
          (await worker.run("run_code", { code: "import random\\nrandom.random()" }).result);
        const result = {
          boots: [a.info.boot, b.info.boot],
          sameSeed: [await pi(a, 11), await pi(b, 11)],
          otherSeed: await pi(b, 12),
          unseeded: [await draw(a), await draw(b)],
        };
        a.terminate();
        b.terminate();
        return result;
        """
    )
    assert got["boots"] == [{"source": "snapshot", "madeSnapshot": False, "note": None}] * 2
    assert got["sameSeed"][0] == got["sameSeed"][1]
    assert got["otherSeed"]["inside"] != got["sameSeed"][0]["inside"]
    first, second = got["unseeded"]
    assert first["result_repr"] != second["result_repr"], "restored workers share a random state"


def assert_fell_back_and_replaced(got: dict[str, Any], note: str) -> None:
    """`got["fallback"]` booted normally with `note` in its note and still ran a task, and made a
    new snapshot, which the next worker (`got["after"]`) restored."""
    fallback = got["fallback"]
    assert fallback["boot"]["source"] == "scratch"
    assert note in fallback["boot"]["note"]
    assert fallback["primes"] == {"count": 168}
    # The bad snapshot was replaced: the next worker restores the new one.
    assert fallback["boot"]["madeSnapshot"] is True
    assert got["after"]["boot"] == {"source": "snapshot", "madeSnapshot": False, "note": None}


def test_a_corrupted_snapshot_falls_back_to_a_normal_boot_with_a_note(visit: StartupPage) -> None:
    make_snapshot(visit)
    got = visit.run(
        """
        await rewrite(async (bytes) => {
          for (let i = 0; i < 4096; i++) bytes[5_000_000 + i] ^= 0xff;
        });
        const fallback = await boot();
        await stored();
        return { fallback, after: await boot() };
        """
    )
    assert_fell_back_and_replaced(got, "corrupt")


def test_bytes_pyodide_rejects_fall_back_with_a_note(visit: StartupPage) -> None:
    make_snapshot(visit)
    got = visit.run(
        """
        await rewrite(async (bytes, meta) => {
          bytes.fill(7, 0, 64); // Pyodide's header: magic number and build id
          meta.sha256 = await digest(bytes);
        });
        return await boot();
        """
    )
    assert got["boot"]["source"] == "scratch"
    assert "did not restore" in got["boot"]["note"]
    assert got["primes"] == {"count": 168}


def test_a_snapshot_of_another_build_is_not_used(visit: StartupPage) -> None:
    make_snapshot(visit)
    got = visit.run(
        """
        await rewrite(async (bytes, meta) => {
          meta.build = meta.build.replace("offload ", "offload 0");
        });
        return await boot();
        """
    )
    assert got["boot"]["source"] == "scratch"
    assert "another build" in got["boot"]["note"]
    assert got["primes"] == {"count": 168}


def test_a_file_that_is_not_a_snapshot_falls_back_with_a_note_and_is_replaced(
    visit: StartupPage,
) -> None:
    # Whatever else ends up in the file (a half-written one from an older build, another tool's):
    # the header is checked before anything is handed to Pyodide.
    got = visit.run(
        """
        const root = await navigator.storage.getDirectory();
        const file = await root.getFileHandle(snapshot.FILE_NAME, { create: true });
        const writable = await file.createWritable();
        await writable.write(new TextEncoder().encode("not a snapshot, just some text"));
        await writable.close();
        const fallback = await boot();
        return { fallback, after: await boot() };
        """
    )
    assert_fell_back_and_replaced(got, "has no header")


def test_the_page_shows_how_each_worker_booted(browser: Browser, server: RunningServer) -> None:
    context = browser.new_context()
    try:
        first = open_page(context.new_page(), server)
        boots = first.locator("#boots li")
        expect(boots.first).to_contain_text("from scratch")
        expect(boots.first).to_contain_text("runtime")
        # The next visit (same browser, once the snapshot is stored) restores it.
        StartupPage(first).run("await stored();")
        second = open_page(context.new_page(), server)
        expect(second.locator("#boots li[data-source='snapshot']")).not_to_have_count(0)
        expect(second.locator("#boots")).not_to_contain_text("from scratch")
        run_in_worker(second, "primes", {"n": "1000"})
        expect(second.locator("#result .ok")).to_contain_text("168 primes up to 1,000")
    finally:
        context.close()


def test_after_a_corrupted_snapshot_the_page_shows_a_note_and_works(
    browser: Browser, server: RunningServer
) -> None:
    context = browser.new_context()
    try:
        first = StartupPage(open_page(context.new_page(), server))
        first.run(
            "await stored();await rewrite(async (bytes) => bytes.fill(0, 1_000_000, 1_100_000));"
        )
        page = open_page(context.new_page(), server)
        expect(page.locator("#boots [data-note]").first).to_contain_text("corrupt")
        run_in_worker(page, "primes", {"n": "1000"})
        expect(page.locator("#result .ok")).to_contain_text("168 primes up to 1,000")
    finally:
        context.close()


# --- the maker's warm-up (py/offload/warmup.py): V8 caches the code it optimises -----------------

WARMED = """
/** Wait until `worker` reported the end of its warm-up (null if it sent none in `ms`). */
const warmed = async (worker, ms) => {
  for (const until = performance.now() + ms; !worker.warmup && performance.now() < until;) {
    await sleep(50);
  }
  return worker.warmup;
};
"""


def test_the_maker_warms_up_after_ready_and_restored_workers_do_not(visit: StartupPage) -> None:
    got = visit.run(
        WARMED
        + """
        const maker = await PythonWorker.start();
        const warmup = await warmed(maker, 120_000);
        const after = await maker.run("primes", { n: 1000 }).result;
        await stored();
        const restored = await PythonWorker.start();
        const primes = await restored.run("primes", { n: 1000 }).result;
        // A warm-up's report would follow the reply to the first run sent during it (it stops
        // before its next step) and so come before the reply to a second one: none came.
        await restored.run("primes", { n: 10 }).result;
        const none = restored.warmup;
        maker.terminate();
        restored.terminate();
        return { boots: [maker.info.boot, restored.info.boot], warmup, after, primes, none };
        """
    )
    assert [boot["source"] for boot in got["boots"]] == ["scratch", "snapshot"]
    warmup = got["warmup"]
    assert warmup["type"] == "warmed"
    assert warmup["stoppedBy"] == "done"
    assert warmup["steps"] == warmup["of"] > 0
    assert warmup["ms"] > 0
    assert got["after"] == got["primes"] == {"count": 168}
    assert got["none"] is None


def test_a_run_sent_during_the_warm_up_ends_it_and_gets_the_same_answers(
    visit: StartupPage,
) -> None:
    got = visit.run(
        WARMED
        + """
        const maker = await PythonWorker.start();
        await sleep(100); // the warm-up is under way (it runs for seconds)
        const first = await maker.run("primes", { n: 1000 }).result;
        const warmup = await warmed(maker, 10_000);
        const ours = await answers(maker, arg);
        await stored();
        const restored = await PythonWorker.start();
        const theirs = await answers(restored, arg);
        maker.terminate();
        restored.terminate();
        return { first, warmup, ours, theirs, restarts: maker.restarts };
        """,
        RUNS,
    )
    assert got["first"] == {"count": 168}
    # The run ended the warm-up: it waited at most for one small step, not for the rest.
    assert got["warmup"]["stoppedBy"] == "request"
    assert got["warmup"]["steps"] < got["warmup"]["of"]
    assert got["ours"] == got["theirs"]
    assert got["restarts"] == 0


def test_cancel_right_after_a_run_sent_during_the_warm_up_still_cancels(
    visit: StartupPage,
) -> None:
    # A cancel stored while a warm-up step runs stops that step; the worker must hand it on to the
    # run it received meanwhile. Several makers (the slot emptied before each), so that some
    # cancel lands inside a step and some between steps.
    got = visit.run(
        WARMED
        + """
        const results = [];
        for (const wait of [30, 60, 90]) {
          await snapshot.clearSnapshots();
          const maker = await PythonWorker.start();
          const boot = maker.info.boot;
          await sleep(wait);
          const job = maker.run("run_code", { code: "while True:\\n    pass" });
          job.cancel();
          const outcome = await job.result.then(() => "finished", (error) => error.name);
          const after = await maker.run("primes", { n: 1000 }).result;
          const warmup = await warmed(maker, 10_000);
          results.push({ outcome, after, warmup, restarts: maker.restarts,
                         mode: maker.cancelMode, boot });
          await stored(); // before the next maker empties the slot
          maker.terminate();
          // The next worker is a maker only once this one's Web Lock is gone.
          while ((await navigator.locks.query()).held.length > 0) await sleep(20);
        }
        return results;
        """
    )
    for result in got:
        assert result["restarts"] == 0, "the cancel was lost and the worker had to be replaced"
        assert result["outcome"] == "CancelledError"
        assert result["boot"]["madeSnapshot"] is True
        assert result["mode"] == "interrupt"
        assert result["after"] == {"count": 168}
        assert result["warmup"]["stoppedBy"] == "request"
