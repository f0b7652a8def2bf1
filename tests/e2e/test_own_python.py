"""A developer's own Python in the worker, in a real Chromium: the example page (its own module,
two functions with progress and cancel, the three clear errors), then the client API underneath
(a wheel by URL, bytes both ways, input(), a module that does not load, snapshot restores, the
pool, run_code's plain value).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.support import PageProblems, RunningServer

EXAMPLE = "/web/examples/own-function.html"
MPMATH = "/wheels/mpmath-1.3.0-py3-none-any.whl"


def call_and_wait(page: Page, button: str, state: str) -> str:
    """Press `button` of the example page and wait until the call ends in `state`."""
    page.locator(f"#{button}").click()
    expect(page.locator("#status")).to_have_attribute("data-state", state, timeout=60_000)
    return page.locator("#status").inner_text()


def test_the_example_page_calls_its_own_functions_with_progress_cancel_and_clear_errors(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    page.goto(f"{server.origin}{EXAMPLE}")
    expect(page.locator("#status")).to_have_attribute("data-state", "ready", timeout=120_000)

    assert "mymod.count_primes finished" in call_and_wait(page, "primes", "finished")
    assert page.locator("#result").inner_text() == "3245"  # primes below 30000
    assert page.locator("#progress").evaluate("(bar) => bar.value") == 1

    assert "mymod.word_stats finished" in call_and_wait(page, "words", "finished")
    assert (
        page.locator("#result").inner_text()
        == '{"words":8,"distinct":5,"top":[["the",3],["and",2]]}'
    )

    # Cancel: a count that would take hours, stopped once its progress shows it runs.
    page.locator("#n").fill("100000000")
    page.locator("#primes").click()
    # (The click set the bar to 0; a progress report moves it. No wait_for_function: the page's
    # CSP forbids the eval it uses.)
    expect(page.locator("#progress")).not_to_have_attribute("value", "0", timeout=60_000)
    page.locator("#cancel").click()
    expect(page.locator("#status")).to_have_attribute("data-state", "cancelled", timeout=30_000)
    assert "The job was cancelled." in page.locator("#status").inner_text()

    status = call_and_wait(page, "missing-module", "failed")
    assert "MissingModuleError: no module named 'notmine'" in status
    assert 'modules: ["./notmine.py"]' in status

    status = call_and_wait(page, "bad-argument", "failed")
    assert "ArgumentError: mymod.count_primes(n): missing a required argument: 'n'" in status

    status = call_and_wait(page, "exception", "failed")
    assert "ValueError: word_stats needs some text, got none" in status
    traceback = page.locator("#result").inner_text()
    assert traceback.splitlines()[1].strip().startswith('File "/tmp/offload_modules/mymod.py"')
    assert "functions.py" not in traceback
    assert "bridge.py" not in traceback

    # After a cancel and three errors, the same worker still calls on.
    assert "finished" in call_and_wait(page, "words", "finished")
    assert problems.all == []


CLIENT = """
async ({ example, mpmath }) => {
  const { PythonWorker, WorkerPool } = await import("/worker/client.js");
  const snapshot = await import("/worker/snapshot.js");
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const outcome = (promise) => promise.then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, name: error.name, type: error.type, message: error.message }),
  );
  const got = {};
  const worker = await PythonWorker.start({ modules: [example], packages: [mpmath] });
  got.first = worker.info.boot;
  got.wheel = [
    await worker.call("importlib.metadata.version", ["mpmath"]).result,
    await worker.call("mpmath.isint", [3.0]).result,
  ];
  const hi = new TextEncoder().encode("hi!").buffer;
  const encoded = await worker.call("base64.b64encode", [hi]).result;
  got.bytes = { isBuffer: encoded instanceof ArrayBuffer, text: new TextDecoder().decode(encoded) };
  const onInput = async () => "Ada";
  got.input = await worker.call("builtins.input", ["name? "], { onInput }).result;
  got.kwargs = await worker.call("mymod.word_stats", ["a b a"], { kwargs: { top: 1 } }).result;
  got.notPlain = await outcome(worker.call("os.stat", ["/"]).result);
  got.runCode = await worker.run("run_code", { code: "{'a': [1, 2.5, None]}" }).result;
  const progress = [];
  got.runCodeProgress = await worker.run("run_code", {
    code: "from offload import progress\\nfor i in range(3):\\n    progress(i + 1, 3)",
  }, { onProgress: (done, total) => progress.push([done, total]) }).result;
  got.progress = progress.at(-1);
  // A second worker boots from the snapshot the first made: its own module is there too.
  for (let i = 0; i < 1200 && !(await snapshot.hasSnapshot()); i++) await sleep(100);
  const pool = await WorkerPool.start({ size: 2, modules: [example] });
  got.poolBoots = pool.workers.map((w) => w.info.boot.source);
  got.pool = await Promise.all([10, 100].map((n) => pool.call("mymod.count_primes", [n]).result));
  pool.terminate();
  worker.terminate();
  got.missing = await outcome(PythonWorker.start({ modules: ["./no-such-module.py"] }));
  return got;
}
"""


def test_the_client_loads_wheels_moves_bytes_answers_input_and_restores_own_modules(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    page.goto(f"{server.origin}{EXAMPLE}")
    got: dict[str, Any] = page.evaluate(CLIENT, {"example": "./mymod.py", "mpmath": MPMATH})
    assert got["wheel"] == ["1.3.0", True]
    assert got["bytes"] == {"isBuffer": True, "text": "aGkh"}
    assert got["input"] == "Ada"
    assert got["kwargs"] == {"words": 3, "distinct": 2, "top": [["a", 2]]}
    assert got["notPlain"]["type"] == "ResultError"
    assert got["runCode"] == {
        "result_repr": "{'a': [1, 2.5, None]}",
        "value": {"a": [1, 2.5, None]},
    }
    assert got["progress"] == [3, 3]
    assert got["poolBoots"] == ["snapshot", "snapshot"]
    assert got["pool"] == [4, 25]
    url = f"{server.origin}/web/examples/no-such-module.py"
    assert got["missing"]["name"] == "WorkerCrashedError"
    assert got["missing"]["message"] == (
        "The worker could not start: UserCodeError: "
        f"could not fetch module {url}: HTTP 404 Not Found"
    )
    assert [p for p in problems.all if "404" not in p] == []
