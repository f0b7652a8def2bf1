"""The worker's Python half: run a task by name and turn whatever happens into plain values.

The JavaScript worker calls `run` and converts the returned dict with `toJs`; keeping the
try/except here (not in JavaScript) means the exception's type, message and traceback are taken
where Python knows them best, and the whole path is testable on native CPython.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping

from offload.runtime import USER_CODE, Cancelled, OutputSink, TaskContext
from offload.schema import TaskSchema
from offload.tasks import describe as describe_tasks
from offload.tasks import run_task, run_task_async

#: {"ok": True, "value": dict | bytes} or {"ok": False, "name", "message", "traceback"}.
Outcome = dict[str, object]


def run(
    name: str,
    params: Mapping[str, object],
    on_progress: Callable[[int, int], None] | None = None,
    on_output: OutputSink | None = None,
) -> Outcome:
    """Run task `name`; never raises, even for a cancel (`Cancelled`, how Pyodide delivers one).

    Args:
        name: the task's name in offload.tasks.TASKS.
        params: its parameters (plain values).
        on_progress: receives (done, total), throttled.
        on_output: receives (stream, text) batches of what the task prints.
    """
    try:
        value = run_task(name, params, TaskContext(on_progress, on_output=on_output))
    except BaseException as error:
        return describe(error)
    return {"ok": True, "value": value}


async def run_async(
    name: str,
    params: Mapping[str, object],
    on_progress: Callable[[int, int], None] | None = None,
    on_output: OutputSink | None = None,
) -> Outcome:
    """`run` for the worker, which awaits it: a task may await (run_code's top-level `await`).

    Args:
        as `run`.
    """
    try:
        value = await run_task_async(name, params, TaskContext(on_progress, on_output=on_output))
    except BaseException as error:
        return describe(error)
    return {"ok": True, "value": value}


def tasks() -> list[TaskSchema]:
    """The schema of every task (name, summary, params, defaults), for the worker's `ready`."""
    return describe_tasks()


def describe(error: BaseException) -> Outcome:
    """The exception as {"ok": False, name, message, traceback}, our own frames left out.

    A cancel gets no traceback: the worker reports it as `cancelled`, which has none, and
    formatting one (source lines, carets) is most of what a cancel costs in Python.
    """
    if isinstance(error, Cancelled):
        return {"ok": False, "name": Cancelled.__name__, "message": str(error), "traceback": ""}
    frames = traceback.extract_tb(error.__traceback__)
    # Drop the leading frames of this module and the registry: the reader wants their task's code.
    skip = 0
    for frame in frames:
        if frame.filename.endswith(("offload/bridge.py", "offload/tasks/__init__.py")):
            skip += 1
        else:
            break
    # In a person's own code (run_code), their code is where the story starts.
    user = next((i for i, frame in enumerate(frames) if frame.filename == USER_CODE), None)
    if user is not None:
        skip = user
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames[skip:])]
    lines += traceback.format_exception_only(error)
    return {
        "ok": False,
        "name": type(error).__name__,
        "message": str(error),
        "traceback": "".join(lines),
    }
