"""The registry of named tasks: what the worker (and anything else) can run by name.

Each task is a plain function over plain values in its own module, plus a `run(params, ctx)`
adapter that validates a parameter mapping against the module's declared `PARAMS`. `run_task` is
the single entry point the worker calls; `describe` tells a page what it can ask for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from offload.params import Param, ParameterError
from offload.runtime import SILENT, TaskContext
from offload.schema import Returns, TaskSchema
from offload.tasks import csv_summary, jsonl_summary, mandelbrot, montecarlo, primes, run_code

#: What a task returns: a JSON-able dict, or raw bytes (moved to the page as a transferable buffer).
TaskResult = dict[str, object] | bytes


class UnknownTaskError(ValueError):
    """No task has the requested name."""


@dataclass(frozen=True)
class Task:
    """A named task, its declared parameters and the function that runs it on a mapping."""

    name: str
    summary: str
    params: Sequence[Param]
    run: Callable[[Mapping[str, object], TaskContext], Mapping[str, object] | bytes]
    #: "bytes" when the task returns raw bytes (an ArrayBuffer in the page), else "object".
    returns: Returns = "object"
    #: The same task for a host with an event loop (run_code: top-level `await`), if it differs.
    run_async: (
        Callable[[Mapping[str, object], TaskContext], Awaitable[Mapping[str, object]]] | None
    ) = None
    #: What a page shows for the task (its name in a menu); the name itself when empty.
    label: str = ""
    #: A few sentences for a person choosing the task: what it does, what its size costs.
    help: str = ""
    #: Parameters the work grows with (roughly in proportion to their product), so a page can
    #: estimate a run's time from a measured one; empty when nothing predicts it (your own code).
    work: tuple[str, ...] = ()

    @property
    def defaults(self) -> dict[str, object]:
        """Suggested values for every parameter that has one: a complete, valid request."""
        return {p.name: p.default for p in self.params if p.default is not None}

    def schema(self) -> TaskSchema:
        """The task as plain values, for a page to build its form from."""
        return {
            "name": self.name,
            "summary": self.summary,
            "returns": self.returns,
            # The worker runs such a task through bridge.run_async (top-level `await` works).
            "awaits": self.run_async is not None,
            "label": self.label or self.name,
            "help": self.help,
            "work": list(self.work),
            "params": [param.schema() for param in self.params],
            "defaults": self.defaults,
        }


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            "primes",
            "count the primes up to n (segmented sieve)",
            primes.PARAMS,
            primes.run,
            label="Count primes",
            help="Counts the primes up to n with a segmented sieve of Eratosthenes. The time grows "
            "a little faster than n: 2,000,000 takes well under a second in a worker.",
            work=("n",),
        ),
        Task(
            "mandelbrot",
            "draw the Mandelbrot set as RGBA pixels (whole, or a band of rows)",
            mandelbrot.PARAMS,
            mandelbrot.run,
            returns="bytes",
            label="Mandelbrot image",
            help="Draws the Mandelbrot set pixel by pixel. In workers the image is split into row "
            "bands across the pool and each band is painted as it arrives.",
            work=("width", "height", "max_iter"),
        ),
        Task(
            "montecarlo_pi",
            "estimate pi from seeded random points in the unit square",
            montecarlo.PARAMS,
            montecarlo.run,
            label="Monte Carlo \u03c0",
            help="Throws random points at a square and counts those inside the quarter circle: "
            "the share inside approaches \u03c0/4. The time is proportional to the samples.",
            work=("samples",),
        ),
        Task(
            "run_code",
            "run your own Python; what it prints is streamed",
            run_code.PARAMS,
            run_code.run,
            run_async=run_code.run_async,
            label="Your own Python",
            help="Write Python and run it: what it prints appears below as it happens, and the "
            "value of the last line is shown. Ctrl+Enter (\u2318+Enter on a Mac) runs it in the "
            "worker; Escape then Tab leaves the editor.",
        ),
        Task(
            "csv_summary",
            "summarise a CSV file: column types, counts, ranges, histograms, frequent values",
            csv_summary.PARAMS,
            csv_summary.run,
            label="Summarise a CSV file",
            help="Reads a CSV file's bytes and describes each column: its type, gaps, range, mean "
            "and histogram, or its most frequent values. The time grows with the file's size.",
        ),
        Task(
            "jsonl_summary",
            "summarise a JSON Lines file (one object per line) like csv_summary",
            jsonl_summary.PARAMS,
            jsonl_summary.run,
            label="Summarise a JSON Lines file",
            help="Reads one JSON object per line and describes each key as csv_summary describes "
            "a column. The time grows with the file's size.",
        ),
    )
}


def describe() -> list[TaskSchema]:
    """Every task's schema, in registry order."""
    return [task.schema() for task in TASKS.values()]


def run_task(name: str, params: Mapping[str, object], ctx: TaskContext = SILENT) -> TaskResult:
    """Run the task called `name` with `params`.

    Raises:
        UnknownTaskError: no task has that name (the message lists the ones that exist).
        offload.params.ParameterError: the parameters are wrong (the message says which and why).
    """
    task = TASKS.get(name)
    if task is None:
        known = ", ".join(sorted(TASKS))
        raise UnknownTaskError(f"unknown task {name!r}; the tasks are: {known}")
    if not isinstance(params, Mapping):
        raise ParameterError(f"{name}: params must be an object, got {type(params).__name__}")
    result = task.run(params, ctx)
    return result if isinstance(result, bytes) else dict(result)


async def run_task_async(
    name: str, params: Mapping[str, object], ctx: TaskContext = SILENT
) -> TaskResult:
    """`run_task` for a host with an event loop: a task's `run_async` is awaited when it has one.

    Raises:
        as `run_task`.
    """
    task = TASKS.get(name)
    if task is None or task.run_async is None or not isinstance(params, Mapping):
        return run_task(name, params, ctx)
    return dict(await task.run_async(params, ctx))
