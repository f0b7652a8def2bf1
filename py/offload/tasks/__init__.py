"""The registry of named tasks: what the worker (and anything else) can run by name.

Each task is a plain function over plain values in its own module, plus a `run(params, ctx)`
adapter that validates a parameter mapping. `run_task` is the single entry point the worker calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from offload.params import ParameterError
from offload.runtime import SILENT, TaskContext
from offload.tasks import primes

#: What a task returns: a JSON-able dict, or raw bytes (moved to the page as a transferable buffer).
TaskResult = dict[str, object] | bytes


class UnknownTaskError(ValueError):
    """No task has the requested name."""


@dataclass(frozen=True)
class Task:
    """A named task and the function that runs it on a parameter mapping."""

    name: str
    summary: str
    run: Callable[[Mapping[str, object], TaskContext], Mapping[str, object] | bytes]


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("primes", "count the primes up to n (segmented sieve)", primes.run),
    )
}


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
