"""The worker's Python half: run a task by name and turn whatever happens into plain values.

The JavaScript worker calls `run` and converts the returned dict with `toJs`; keeping the
try/except here (not in JavaScript) means the exception's type, message and traceback are taken
where Python knows them best, and the whole path is testable on native CPython.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence

from offload import functions
from offload.runtime import USER_CODE, Cancelled, OutputSink, TaskContext, reporting
from offload.schema import TaskSchema
from offload.tasks import describe as describe_tasks
from offload.tasks import run_task, run_task_async
from offload.tasks.run_code import redirected

#: Files whose leading frames a reported traceback leaves out (with importlib's: importing the
#: developer's module goes through `importlib.import_module` and its frozen frames).
OWN_FRAMES = ("offload/bridge.py", "offload/tasks/__init__.py", "offload/functions.py")

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


def call(
    name: str,
    args: Sequence[object],
    kwargs: Mapping[str, object] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_output: OutputSink | None = None,
) -> Outcome:
    """Call a developer's own function `name` ("mymod.fn"); never raises, as `run`.

    The function runs as a person's code in `run_code` does: `print` reaches `on_output`,
    `input()` asks the page, and `offload.progress(done, total)` reaches `on_progress` (throttled).

    Args:
        name: module.function; the module was added with `add_module` (or is importable).
        args, kwargs: plain values (an ArrayBuffer arrives as a memoryview: it becomes bytes).
        on_progress, on_output: as for `run`.
    """
    ctx = TaskContext(on_progress, on_output=on_output)
    stdout, stderr = ctx.output_stream("stdout"), ctx.output_stream("stderr")
    try:
        with redirected(stdout, stderr), reporting(ctx.progress):
            value = functions.call(name, args, kwargs)
    except BaseException as error:
        return describe(error)
    return {"ok": True, "value": value}


def add_module(filename: str, source: str) -> str:
    """Write a developer's module where `import` finds it (offload.functions.add_module)."""
    return functions.add_module(filename, source)


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
    # Drop the leading frames of this module, the registry, the function caller and importlib's:
    # the reader wants their task's code (or their own module's).
    skip = 0
    for frame in frames:
        if frame.filename.endswith(OWN_FRAMES) or "importlib" in frame.filename:
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
