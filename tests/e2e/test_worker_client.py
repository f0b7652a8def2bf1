"""PythonWorker in a real Chromium: tasks, progress, output, errors, cancel, deadlines, crashes.

Every test drives /worker/client.js the way an app would. Results computed natively with the very
same py/ functions are compared with the worker's, byte for byte.
"""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Browser

from offload import bridge
from offload.runtime import TaskContext
from offload.tasks import run_task
from offload.tasks.mandelbrot import render
from offload.tasks.run_code import run_source
from tests.e2e.conftest import CRASH, ClientPage
from tests.support import RunningServer

pytestmark = pytest.mark.e2e

LONG_MONTECARLO = {"samples": 1_000_000_000, "seed": 1}  # minutes of work: always cut short


def test_ready_reports_python_boot_timings_capabilities_and_tasks(client: ClientPage) -> None:
    info = client.run("return worker.info;")
    assert info["python"].startswith("3.14")
    phases = {"importRuntime", "loadRuntime", "loadWheel", "total"}
    # makeSnapshot too when this worker made the snapshot later workers restore (docs/startup.md).
    assert set(info["timings"]) in (phases, {*phases, "makeSnapshot"})
    assert info["boot"]["source"] in ("snapshot", "scratch")
    assert all(ms >= 0 for ms in info["timings"].values())
    assert info["capabilities"]["crossOriginIsolated"] is True
    assert info["capabilities"]["interrupts"] is True
    assert info["tasks"] == bridge.tasks()


def test_primes_up_to_two_million_are_148933_with_progress_on_the_way(client: ClientPage) -> None:
    got = client.run(
        """
        const progress = [];
        const onProgress = (done, total) => progress.push([done, total]);
        const job = worker.run("primes", { n: 2_000_000 }, { onProgress });
        return { value: await job.result, progress };
        """
    )
    assert got["value"] == {"count": 148_933}
    assert len(got["progress"]) >= 5
    assert got["progress"][-1] == [1_999_999, 1_999_999]


def test_a_cancelled_montecarlo_rejects_and_the_same_worker_runs_on(
    client: ClientPage,
) -> None:
    got = client.run(
        "return cancelAndRunOn((onProgress) => worker.run('montecarlo_pi', arg, { onProgress }));",
        LONG_MONTECARLO,
    )
    assert got["result"]["ok"] is False
    assert got["result"]["name"] == "CancelledError"
    assert got["next"] == {"count": 168}
    assert got["replaced"] == 0  # the interrupt stopped Python; no new worker was needed


@pytest.mark.parametrize(
    ("task", "params", "type_", "message"),
    [
        ("primes", {"n": "many"}, "ParameterError", "primes: n must be an integer, got 'many'"),
        ("primes", {"n": 10**12}, "ParameterError", "n must be between 0 and 1_000_000_000"),
        ("mandelbrot", {"width": 10**5, "height": 10, "max_iter": 5}, "ParameterError", "width"),
        ("montecarlo_pi", {"samples": 10}, "ParameterError", "missing parameter 'seed'"),
        ("run_code", {"code": 42}, "ParameterError", "code must be a string, got int"),
        ("nope", {}, "UnknownTaskError", "unknown task 'nope'; the tasks are: csv_summary, "),
    ],
)
def test_bad_parameters_and_unknown_tasks_reject_saying_what_was_wrong(
    client: ClientPage, task: str, params: dict[str, object], type_: str, message: str
) -> None:
    got = client.run(
        "return outcome(worker.run(arg.task, arg.params).result);", {"task": task, "params": params}
    )
    assert got["ok"] is False
    assert got["name"] == "PythonError"
    assert got["type"] == type_
    assert message in got["message"]
    assert got["traceback"].startswith("Traceback (most recent call last):")


def test_a_python_exception_keeps_its_type_message_and_traceback(client: ClientPage) -> None:
    code = "def divide(a, b):\n    return a / b\n\ndivide(1, 0)"
    got = client.run("return outcome(worker.run('run_code', { code: arg }).result);", code)
    assert (got["name"], got["type"]) == ("PythonError", "ZeroDivisionError")
    assert got["message"] == "ZeroDivisionError: division by zero"
    native = str(bridge.run("run_code", {"code": code})["traceback"])
    # The worker runs Python 3.14, the tests a 3.12+: they differ only in where they draw carets.
    assert without_carets(got["traceback"]) == without_carets(native)
    assert "return a / b" in got["traceback"]


def without_carets(traceback: str) -> list[str]:
    return [line for line in traceback.splitlines() if set(line.strip()) - {"~", "^"}]


def sha256_js(expression: str) -> str:
    return f"""
        const bytes = new Uint8Array({expression});
        const digest = await crypto.subtle.digest("SHA-256", bytes);
        return {{ length: bytes.length, sha256: [...new Uint8Array(digest)]
                  .map((b) => b.toString(16).padStart(2, "0")).join("") }};
    """


@pytest.mark.parametrize(
    ("task", "params"),
    [
        ("primes", {"n": 3_000_017}),
        ("montecarlo_pi", {"samples": 300_000, "seed": 2024}),
        ("run_code", {"code": "import math\n[math.fsum([0.1] * 10), 2**100, sorted({3, 1, 2})]"}),
    ],
)
def test_object_results_are_the_same_natively_and_in_the_worker(
    client: ClientPage, task: str, params: dict[str, object]
) -> None:
    in_worker = client.run(
        "return worker.run(arg.task, arg.params).result;", {"task": task, "params": params}
    )
    assert in_worker == run_task(task, params)


def test_mandelbrot_bytes_are_the_same_natively_and_in_the_worker(client: ClientPage) -> None:
    params = {
        "width": 97,
        "height": 61,
        "max_iter": 150,
        "x_min": -0.8,
        "x_max": -0.7,
        "y_min": 0.05,
        "y_max": 0.15,
    }
    got = client.run(
        "const buffer = await worker.run('mandelbrot', arg).result;" + sha256_js("buffer"), params
    )
    native = render(97, 61, 150, x_min=-0.8, x_max=-0.7, y_min=0.05, y_max=0.15)
    assert got == {"length": 97 * 61 * 4, "sha256": hashlib.sha256(native).hexdigest()}


def test_run_code_streams_what_it_prints_before_the_result(client: ClientPage) -> None:
    code = "import sys\nfor i in range(3):\n    print('line', i)\n"
    code += "print('oops', file=sys.stderr)\n'done'"
    got = client.run(
        """
        const events = [];
        const job = worker.run("run_code", { code: arg }, {
          onStdout: (text, stream) => events.push([stream, text]),
        });
        const value = await job.result;
        return { value, events };
        """,
        code,
    )
    native: list[tuple[str, str]] = []
    run_source(code, TaskContext(on_output=lambda stream, text: native.append((stream, text))))
    assert got["value"] == {"result_repr": "'done'", "value": "done"}

    def joined(events: list[list[str]] | list[tuple[str, str]], stream: str) -> str:
        return "".join(text for name, text in events if name == stream)

    assert joined(got["events"], "stdout") == joined(native, "stdout") == "line 0\nline 1\nline 2\n"
    assert joined(got["events"], "stderr") == "oops\n"


def test_output_printed_before_a_sleep_arrives_while_it_sleeps(client: ClientPage) -> None:
    # The sleep outlasts any wait: the output has arrived while it sleeps if the job, cancelled
    # once the output is in, ends cancelled (held back until the end, it would come with a result).
    got = client.run(
        """
        let printed;
        const arrived = new Promise((resolve) => { printed = resolve; });
        const code = "import time\\nprint('before')\\ntime.sleep(60)\\n1";
        const job = worker.run("run_code", { code }, { onStdout: (text) => printed(text) });
        const first = await arrived;
        job.cancel();
        return { first, result: await outcome(job.result) };
        """
    )
    assert got["first"] == "before\n"
    assert got["result"]["name"] == "CancelledError"


def test_cancelling_code_that_ignores_the_interrupt_replaces_the_worker_and_it_runs_on(
    client: ClientPage,
) -> None:
    got = client.run(
        "return cancelAndRunOn((onStdout) => worker.run('run_code', { code: arg }, { onStdout }));",
        # It prints inside the `try`: the interrupt lands where it is swallowed.
        "import time\nwhile True:\n    try:\n        print('sleeping')\n        time.sleep(60)\n"
        "    except KeyboardInterrupt:\n        pass",
    )
    assert got["result"]["name"] == "CancelledError"
    assert got["replaced"] == 1  # the code swallowed the interrupt: the grace period ran out
    assert got["next"] == {"count": 168}


def test_a_job_past_its_timeout_rejects_with_a_timeout_error(client: ClientPage) -> None:
    got = client.run(
        """
        const result = await outcome(worker.run("montecarlo_pi", arg, { timeout: 300 }).result);
        const next = await worker.run("primes", { n: 1000 }).result;
        return { result, next };
        """,
        LONG_MONTECARLO,
    )
    assert got["result"]["name"] == "TimeoutError"
    assert "300 ms" in got["result"]["message"]
    assert got["next"] == {"count": 168}


def test_a_queued_job_can_be_cancelled_before_it_starts(client: ClientPage) -> None:
    got = client.run(
        """
        const first = worker.run("primes", { n: 300_000 });
        const second = worker.run("primes", { n: 100 });
        second.cancel();
        return [await outcome(first.result), await outcome(second.result)];
        """
    )
    assert got[0] == {"ok": True, "value": {"count": 25_997}}
    assert got[1]["name"] == "CancelledError"


def test_a_crashed_worker_rejects_its_job_and_is_replaced(client: ClientPage) -> None:
    got = client.run(
        """
        const restarts = worker.restarts;
        const result = await outcome(worker.run("run_code", { code: arg }).result);
        const next = await worker.run("primes", { n: 1000 }).result;
        return { result, next, replaced: worker.restarts - restarts };
        """,
        CRASH,
    )
    assert got["result"]["name"] == "WorkerCrashedError"
    assert "Python crashed" in got["result"]["message"]
    assert got["replaced"] == 1
    assert got["next"] == {"count": 168}


def test_without_interrupts_cancel_restarts_the_worker(client: ClientPage) -> None:
    got = client.run(
        """
        const fallback = await PythonWorker.start({ interrupts: false });
        try {
          let underWay;
          const running = new Promise((resolve) => { underWay = resolve; });
          const job = fallback.run("montecarlo_pi", arg, { onProgress: () => underWay() });
          await running;
          job.cancel();
          const result = await outcome(job.result);
          const next = await fallback.run("primes", { n: 1000 }).result;
          return { mode: fallback.cancelMode, result, next, restarts: fallback.restarts };
        } finally {
          fallback.terminate();
        }
        """,
        LONG_MONTECARLO,
    )
    assert got == {
        "mode": "restart",
        "result": got["result"] | {"name": "CancelledError"},
        "next": {"count": 168},
        "restarts": 1,
    }


def test_terminate_rejects_the_running_job_and_every_later_one(client: ClientPage) -> None:
    got = client.run(
        """
        const doomed = await PythonWorker.start();
        let underWay;
        const started = new Promise((resolve) => { underWay = resolve; });
        const running = doomed.run("montecarlo_pi", arg, { onProgress: () => underWay() });
        await started;
        doomed.terminate();
        const later = doomed.run("primes", { n: 10 });
        return [await outcome(running.result), await outcome(later.result)];
        """,
        LONG_MONTECARLO,
    )
    assert [result["name"] for result in got] == ["WorkerCrashedError", "WorkerCrashedError"]


def test_a_param_that_cannot_be_cloned_rejects_its_job_and_the_worker_runs_on(
    client: ClientPage,
) -> None:
    got = client.run(
        """
        const restarts = worker.restarts;
        const bad = worker.run("primes", { n: 10, onDone: () => {} });
        const queued = worker.run("primes", { n: 1000 });
        const result = await outcome(bad.result);
        return { result, cause: (await bad.result.catch((error) => error)).cause.name,
                 queued: await queued.result, next: await worker.run("primes", { n: 100 }).result,
                 replaced: worker.restarts - restarts };
        """
    )
    assert got["result"]["name"] == "RequestError"
    message = got["result"]["message"]
    assert 'primes: param "onDone" cannot be sent to a worker (a function' in message
    assert got["cause"] == "DataCloneError"
    assert (got["queued"], got["next"]) == ({"count": 168}, {"count": 25})
    assert got["replaced"] == 0


def test_a_worker_that_cannot_boot_says_why_and_rejects_every_job(
    browser: Browser, server: RunningServer
) -> None:
    context = browser.new_context()
    # The offload wheel is unreachable: Pyodide starts, loading the package fails, `boot_failed`.
    context.route("**/wheels/*.whl", lambda route: route.fulfill(status=404, body="gone"))
    try:
        page = context.new_page()
        page.goto(server.url)
        got = page.evaluate(
            """async () => {
                const { PythonWorker } = await import("/worker/client.js");
                const worker = new PythonWorker();
                const job = worker.run("primes", { n: 10 });
                const failure = await worker.ready.then(() => null, (error) => error);
                const jobError = await job.result.then(() => null, (error) => error);
                return { name: failure?.name, message: failure?.message, job: jobError?.name,
                         restarts: worker.restarts };
            }"""
        )
    finally:
        context.close()
    assert got["name"] == got["job"] == "WorkerCrashedError"
    assert got["message"].startswith("The worker could not start: ")
    assert "offload" in got["message"]
    assert got["restarts"] == 0
