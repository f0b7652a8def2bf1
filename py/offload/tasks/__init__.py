"""The registry of named tasks: what the worker (and anything else) can run by name.

Each task is a plain function over plain values in its own module, plus a `run(params, ctx)`
adapter that validates a parameter mapping against the module's declared `PARAMS`. `run_task` is
the single entry point the worker calls; `describe` tells a page what it can ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from offload.params import Param, ParameterError
from offload.runtime import SILENT, TaskContext
from offload.schema import Returns, TaskSchema
from offload.tasks import mandelbrot, montecarlo, primes, run_code

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
            "params": [param.schema() for param in self.params],
            "defaults": self.defaults,
        }


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("primes", "count the primes up to n (segmented sieve)", primes.PARAMS, primes.run),
        Task(
            "mandelbrot",
            "draw the Mandelbrot set as RGBA pixels (whole, or a band of rows)",
            mandelbrot.PARAMS,
            mandelbrot.run,
            returns="bytes",
        ),
        Task(
            "montecarlo_pi",
            "estimate pi from seeded random points in the unit square",
            montecarlo.PARAMS,
            montecarlo.run,
        ),
        Task(
            "run_code",
            "run your own Python; what it prints is streamed",
            run_code.PARAMS,
            run_code.run,
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
