"""Each measurement of issue 6, as a function that drives the page (or sockets) and returns rows.

Figures and baselines are always taken in the same run, interleaved where the order could favour
one side. The statistics are medians unless a row says otherwise.
"""

from __future__ import annotations

import itertools
import time
from functools import partial
from typing import Any

from bench import memory as process_memory
from bench.browser import BenchPage, Browser
from bench.native import time_task
from bench.plan import Plan
from bench.rows import REPORT, Row, at_least, at_most, median, not_measured, percentile
from bench.socket import fanout, in_thread, start_job

MB = 1024 * 1024
CLICK_AFTER_S = 0.4  # into a run, so the click lands while Python is busy
MEMORY_SETTLE_S = 1.0  # lets closed contexts' renderers exit and the new one finish its work


def python_speed(page: BenchPage, plan: Plan, tasks: set[str]) -> list[Row]:
    """Per task: PythonWorker.run ÷ native run_task (speed), and ÷ a bare worker's runPython
    (our overhead), the three measured in turn within each repetition."""
    speed: list[Row] = []
    overhead: list[Row] = []
    for task, params in plan.speed_tasks.items():
        if task not in tasks:
            reason = f"there is no {task!r} task in py/offload yet"
            speed.append(not_measured("Python speed", task, at_most(2.0), reason))
            overhead.append(not_measured("our overhead", task, at_most(1.05), reason))
            continue
        ours: list[float] = []
        bare: list[float] = []
        native: list[float] = []
        progress = 0
        for _ in range(plan.speed_reps):
            run = page.call("workerRuns", task, params, 1)
            ours += run["times"]
            progress += run["progress"]
            bare += page.call("bareRuns", task, params, 1)["times"]
            native += time_task(task, params, 1)
        shown = ", ".join(f"{k}={v}" for k, v in params.items() if k != "code")
        speed.append(
            Row(
                "Python speed",
                task,
                median(ours),
                median(native),
                "ms",
                at_most(2.0),
                f"{shown or params.get('code')}: PythonWorker.run wall time in the page ÷ "
                f"run_task on native CPython in the bench process; median of {plan.speed_reps}",
            )
        )
        overhead.append(
            Row(
                "our overhead",
                task,
                median(ours),
                median(bare),
                "ms",
                at_most(1.05),
                "PythonWorker.run with onProgress "
                f"({progress // plan.speed_reps} progress messages/run) ÷ a bare worker's "
                "runPython of the same run_task call, both timed on the page",
            )
        )
    return speed + overhead


def responsiveness(page: BenchPage, plan: Plan) -> list[Row]:
    """The same task on the main thread and in the worker, with the frame meter on and one real
    click during each run: the longest frame gap and click-to-paint, worst over the runs."""
    task, params = plan.responsive_task
    point = page.probe_point()
    runs: dict[str, list[dict[str, Any]]] = {"main": [], "worker": []}
    for _ in range(plan.responsive_reps):
        for mode in ("main", "worker"):
            page.call("startResponsiveRun", mode, task, params)
            time.sleep(CLICK_AFTER_S)
            page.click(point)
            runs[mode].append(page.call("finishResponsiveRun"))
    gaps = {mode: max(run["maxGapMs"] for run in found) for mode, found in runs.items()}
    delays = {
        mode: [run["inputDelayMs"] for run in found if run["inputDelayMs"] is not None]
        for mode, found in runs.items()
    }
    task_ms = {mode: median([run["ms"] for run in found]) for mode, found in runs.items()}
    what = f"{task} {params} (~{task_ms['worker']:.0f} ms in the worker, "
    what += f"{task_ms['main']:.0f} ms on the main thread); worst of {plan.responsive_reps}"
    each = ", ".join(f"{run['maxGapMs']:.0f}" for run in runs["worker"])
    rows = [
        Row(
            "frame gap",
            "worker ÷ main thread",
            gaps["worker"],
            gaps["main"],
            "ms",
            at_most(0.05, figure_max=50),
            f"longest requestAnimationFrame gap during {what} (worker runs: {each} ms)",
        )
    ]
    if delays["worker"] and delays["main"]:
        rows.append(
            Row(
                "input delay",
                "worker ÷ main thread",
                max(delays["worker"]),
                max(delays["main"]),
                "ms",
                at_most(0.1),
                f"a real click {CLICK_AFTER_S} s into {what}; from the click event's timeStamp "
                "to the first paint after its handler",
            )
        )
    else:
        rows.append(
            not_measured("input delay", "worker ÷ main thread", at_most(0.1), "no click arrived")
        )
    return rows


def startup(browser: Browser, plan: Plan) -> list[Row]:
    """Worker ready in a fresh context (cold) and again in the same one (warm), ours and bare."""
    ours_cold: list[float] = []
    ours_warm: list[float] = []
    bare_cold: list[float] = []
    bare_warm: list[float] = []
    phases: dict[str, float] = {}
    warm_phases: dict[str, float] = {}
    for _ in range(plan.startup_reps):
        page = browser.page()
        try:
            first = page.call("startOffloadWorker")
            second = page.call("startOffloadWorker")
            ours_cold.append(first["ms"])
            ours_warm.append(second["ms"])
            phases = first["timings"] or {}
            warm_phases = second["timings"] or {}
        finally:
            page.close()
        page = browser.page()
        try:
            bare_cold.append(page.call("startBareWorker", False)["ms"])
            bare_warm.append(page.call("startBareWorker", False)["ms"])
        finally:
            page.close()
    reps = f"median of {plan.startup_reps}"
    phase_text = ", ".join(f"{name} {ms:.0f} ms" for name, ms in phases.items())
    warm_text = ", ".join(f"{name} {ms:.0f} ms" for name, ms in warm_phases.items())
    return [
        Row(
            "start-up",
            "cold: ours ÷ bare loadPyodide",
            median(ours_cold),
            median(bare_cold),
            "ms",
            at_most(1.1),
            "PythonWorker.start() to ready (Pyodide + offload wheel) ÷ new Worker to a bare "
            f"loadPyodide in a worker, each in a fresh browser context (empty cache); {reps}. "
            f"Our last cold boot: {phase_text}",
        ),
        Row(
            "start-up",
            "warm ÷ cold (ours)",
            median(ours_warm),
            median(ours_cold),
            "ms",
            at_most(0.5),
            f"a second PythonWorker.start() in the same context (HTTP cache warm); {reps}. "
            f"Our last warm boot: {warm_text}",
        ),
        Row(
            "start-up",
            "warm: ours ÷ bare loadPyodide",
            median(ours_warm),
            median(bare_warm),
            "ms",
            REPORT,
            f"second boot in the same context, ours and bare; {reps}",
        ),
    ]


def pool(page: BenchPage, plan: Plan) -> list[Row]:
    """Mandelbrot on WorkerPool({size: 1}) ÷ WorkerPool({size: 2}), sizes interleaved."""
    params = plan.pool_params
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for _ in range(plan.pool_reps):
        for size in (1, 2):
            found = page.call("pool", size, params)
            if found is None:
                reason = "worker/client.js has no WorkerPool yet"
                return [
                    not_measured("pool", "1 ÷ 2 workers, startup excluded", at_least(1.6), reason),
                    not_measured("pool", "1 ÷ 2 workers, startup included", REPORT, reason),
                ]
            runs[size].append(found)

    def typical(size: int, key: str) -> float:
        return median([run[key] for run in runs[size]])

    what = f"mandelbrot {params} ({runs[1][0]['bytes'] // 1024} KiB of RGBA); "
    what += f"median of {plan.pool_reps}, pool sizes interleaved"
    return [
        Row(
            "pool",
            "1 ÷ 2 workers, startup excluded",
            typical(1, "excludedMs"),
            typical(2, "excludedMs"),
            "ms",
            at_least(1.6),
            f"{what}: from the pool being ready (every worker booted) to the whole image",
        ),
        Row(
            "pool",
            "1 ÷ 2 workers, startup included",
            typical(1, "includedMs"),
            typical(2, "includedMs"),
            "ms",
            REPORT,
            f"{what}: from new WorkerPool to the whole image",
        ),
    ]


def transfer(page: BenchPage, plan: Plan) -> list[Row]:
    """A 16 MiB ArrayBuffer to a worker and back, moved ÷ copied (half a round trip each)."""
    found = page.call("transfer", plan.transfer_bytes, plan.transfer_reps)
    return [
        Row(
            "transfer",
            f"{plan.transfer_bytes // MB} MiB: transfer ÷ structured clone",
            median(found["transfer"]) / 2,
            median(found["clone"]) / 2,
            "ms",
            at_most(0.1),
            "postMessage to a plain worker that posts it back, with the buffer in the transfer "
            f"list or copied; half the round trip, median of {plan.transfer_reps}",
        )
    ]


def memory(browser: Browser) -> list[Row]:
    """Renderer memory with 0, 1 and 2 booted workers, each in a fresh context (the only one
    open), after a moment to settle; the JavaScript-heap API's view goes in the note."""
    if not process_memory.available():
        reason = "no /proc/PID/smaps_rollup (not Linux)"
        return [not_measured("memory", "added by 2 workers ÷ 1", at_most(1.9), reason)]
    process: list[float] = []
    api: list[float | None] = []
    for workers in (0, 1, 2):
        page = browser.page()
        try:
            heap = page.call("bootForMemory", workers)
            time.sleep(MEMORY_SETTLE_S)
            process.append(process_memory.renderers_private_bytes() / MB)
            api.append(heap / MB if heap is not None else None)
        finally:
            page.close()
    one, two = process[1] - process[0], process[2] - process[0]
    heaps = ", ".join(f"{mb:.1f}" if mb is not None else "?" for mb in api)
    return [
        Row(
            "memory",
            "added by 2 workers ÷ 1",
            two,
            one,
            "MB",
            at_most(1.9),
            "private memory (USS, /proc smaps_rollup) of this run's Chromium renderer processes "
            "with 0, 1 and 2 PythonWorkers booted and one task run in each, fresh context each; "
            f"without workers {process[0]:.0f} MB. performance.measureUserAgentSpecificMemory() "
            f"for 0/1/2 workers: {heaps} MB (JavaScript heaps only, no wasm memory)",
        )
    ]


def socket_rtt(browser: Browser, echo_url: str, plan: Plan) -> list[Row]:
    """ping->pong through SocketClient and /ws ÷ the same text through a raw WebSocket to a bare
    aiohttp echo server, interleaved one by one; the first 5% are warm-up."""
    page = browser.page(bypass_csp=True)
    try:
        found = page.call("socketRtt", echo_url, plan.rtt_count)
    finally:
        page.close()
    skip = plan.rtt_count // 20
    ours, bare = found["ours"][skip:], found["bare"][skip:]
    note = (
        f"{len(ours)} round trips each, from the page: our SocketClient ping -> server pong ÷ a "
        "raw WebSocket to an aiohttp echo server (its own process and port)"
    )
    return [
        Row("socket RTT", label, percentile(ours, q), percentile(bare, q), "ms", at_most(1.5), note)
        for label, q in (("p50", 0.5), ("p99", 0.99))
    ]


def socket_fanout(ws_url: str, plan: Plan) -> list[Row]:
    """Broadcast throughput to N receivers, with N = 1 as the baseline of the curve."""
    rows: list[Row] = []
    base: float | None = None
    for receivers, results in plan.fanout.items():
        found = in_thread(partial(fanout, ws_url, receivers, results))
        base = base if base is not None else found.per_second
        note = (
            f"one aiohttp client sends {results} `result`s (each stored, acked and broadcast as "
            f"`peer_result`) to {receivers} aiohttp clients; {found.delivered} of "
            f"{results * receivers} delivered in {found.seconds:.2f} s"
        )
        if found.dropped:
            note += f"; {found.dropped} receivers were disconnected"
        rows.append(
            Row("socket fan-out", f"N = {receivers}", found.per_second, base, "msg/s", REPORT, note)
        )
    return rows


def end_to_end(page: BenchPage, ws_url: str, plan: Plan) -> list[Row]:
    """A distributed Monte Carlo job: the page volunteers, the server hands it chunks, the worker
    computes them, the page answers and waits for the ack; everything but the compute is overhead.
    """
    chunks = plan.e2e_chunks
    page.call("startVolunteering", chunks)
    finished = in_thread(
        lambda: start_job(ws_url, chunks * plan.e2e_chunk_samples, plan.e2e_chunk_samples, 120)
    )
    if not finished:
        return [
            not_measured("end to end", "p50", REPORT, "the job did not finish in 120 s"),
        ]
    records = page.call("finishVolunteering")
    overhead = [r["ackedMs"] - r["arrivedMs"] - r["computeMs"] for r in records]
    compute = [r["computeMs"] for r in records]
    cycle = [b["arrivedMs"] - a["arrivedMs"] for a, b in itertools.pairwise(records)]
    note = (
        f"{chunks} chunks of montecarlo_pi ({plan.e2e_chunk_samples} samples): from the page "
        "receiving job_chunk to the server's ack of its chunk_result, minus PythonWorker.run's "
        f"time (baseline: that compute time); chunk-to-chunk cycle p50 {median(cycle):.1f} ms"
    )
    return [
        Row(
            "end to end",
            label,
            percentile(overhead, q),
            percentile(compute, q),
            "ms",
            REPORT,
            note,
        )
        for label, q in (("overhead p50", 0.5), ("overhead p99", 0.99))
    ]
