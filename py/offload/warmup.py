"""Small runs of the tasks, for the worker that made this browser's memory snapshot to run once it
is ready, so that V8 optimises their hot paths while that worker's compiled code can still be
cached.

Why (docs/startup.md, "The first run after a restore"): V8 keeps the compiled wasm of Pyodide in
its code cache, but only the functions its optimising tier (TurboFan) had compiled when it wrote
the cache, and (as observed here) only from a worker that compiled the module itself, not from one
that read it from the cache. So what the worker that booted from scratch warmed is all later
visits get: without this, their first runs start on baseline code and pay for the optimising
compiles on the same cores.

Each step is one small run (a few milliseconds once optimised, tens before): the worker runs steps
between its messages and stops at the first real request, so a person's run waits at most for
the step in progress. The results are thrown away; nothing here touches the global `random`
state or anything a later run reads.
"""

from __future__ import annotations

from offload.runtime import SILENT, Cancelled
from offload.tasks import run_task

_CSV = "city,temp,rain,day\n" + "".join(
    f"c{i % 7},{i * 0.37:.2f},{i % 3},d{i}\n" for i in range(300)
)
_JSONL = "".join(
    f'{{"id": {i}, "name": "n{i % 11}", "score": {i * 0.5}, "ok": {str(i % 2 == 0).lower()}}}\n'
    for i in range(200)
)

#: The runs, in order: every task a page runs with a heavy loop, small enough for a step.
STEPS: tuple[tuple[str, dict[str, object]], ...] = (
    ("mandelbrot", {"width": 48, "height": 16, "max_iter": 200}),
    ("primes", {"n": 60_000}),
    ("montecarlo_pi", {"samples": 20_000, "seed": 1}),
    ("csv_summary", {"data": _CSV.encode()}),
    ("jsonl_summary", {"data": _JSONL.encode()}),
)

#: How many times the worker goes through STEPS: enough for V8 to optimise what they run
#: (measured: a dozen small mandelbrot runs took a restored worker's first run to its later speed).
ROUNDS = 40


def plan() -> list[list[object]]:
    """The steps as [task, params] pairs, which the worker runs ROUNDS times over through
    offload.bridge.run, the way it runs a page's request (so the conversions warm up too)."""
    return [[name, dict(params)] for name, params in STEPS]


def count() -> int:
    """How many steps a full warm-up has."""
    return len(STEPS) * ROUNDS


def step(index: int) -> bool:
    """Run step `index` (any integer; it cycles through STEPS) natively, for the tests, and throw
    the result away.

    Returns:
        False when a cancel stopped it.
    """
    name, params = STEPS[index % len(STEPS)]
    try:
        run_task(name, params, SILENT)
    except Cancelled:
        return False
    return True
