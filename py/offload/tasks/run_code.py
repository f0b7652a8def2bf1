"""Run a person's own Python, streaming what it prints, and return the value of its last line.

Like a REPL cell: statements run in a fresh namespace, and when the code ends with an expression
its `repr` is the result (and the value itself too, when it is plain data). `sys.stdout` and
`sys.stderr` are swapped for the task's output streams while the code runs, so `print` reaches
the page in batches as it happens, natively and in Pyodide alike (no need for Pyodide's
`setStdout`, and the native tests see exactly what the page sees).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib.util
import inspect
import linecache
import sys
import time
from collections.abc import Iterator, Mapping
from inspect import CO_COROUTINE
from types import CodeType

from offload import interactive
from offload.functions import is_plain
from offload.interactive import missing_module_hint
from offload.params import TextParam, reject_unknown_params
from offload.runtime import USER_CODE, OutputStream, TaskContext, reporting

MAX_CODE = 100_000  # characters; a paste of a whole module fits, a runaway generator does not
MAX_REPR = 10_000  # characters of the result's repr sent back
MAX_VALUE_ITEMS = 100_000  # a bigger final value comes back as its (cut) repr only

CODE = TextParam(
    "code",
    "Python source to run; the value of a final expression is returned",
    'print("hello from Python in a worker")\nsum(i * i for i in range(1_000_000))',
    max_length=MAX_CODE,
    language="python",
)
PARAMS = (CODE,)


def run_source(code: str, ctx: TaskContext) -> str | None:
    """Run `code`; return the repr of its final expression (None when it ends with a statement).

    Raises:
        SyntaxError: the code does not compile (Python's own message, line and caret); `await`
            outside a function too (see `run_source_async`).
        ModuleNotFoundError: an import nobody can load, with a hint on how to add it (browser).
        BaseException: whatever the code raises, unchanged.
    """
    final = execute(code, ctx)
    return None if final is None else shown(final[0])


async def run_source_async(code: str, ctx: TaskContext) -> str | None:
    """`run_source`, where the code may also `await` at top level (e.g. `micropip.install`).

    Raises:
        as `run_source`.
    """
    final = await execute_async(code, ctx)
    return None if final is None else shown(final[0])


def execute(code: str, ctx: TaskContext) -> tuple[object] | None:
    """Run `code`; return its final expression's value in a 1-tuple (None: it ends with a
    statement). `offload.progress` inside it reports to `ctx`.

    Raises:
        as `run_source`.
    """
    body, last = compiled(code, flags=0)
    namespace = new_namespace()
    stdout, stderr = ctx.output_stream("stdout"), ctx.output_stream("stderr")
    with redirected(stdout, stderr), hinted_imports(), reporting(ctx.progress):
        exec(body, namespace)
        return None if last is None else (eval(last, namespace),)


async def execute_async(code: str, ctx: TaskContext) -> tuple[object] | None:
    """`execute`, where the code may also `await` at top level.

    Raises:
        as `run_source`.
    """
    body, last = compiled(code, flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = new_namespace()
    stdout, stderr = ctx.output_stream("stdout"), ctx.output_stream("stderr")
    with redirected(stdout, stderr), hinted_imports(), reporting(ctx.progress):
        # With the flag, eval() of code that awaits returns a coroutine to await (else None).
        pending = eval(body, namespace)
        if inspect.isawaitable(pending):
            await pending
        if last is None:
            return None
        value: object = eval(last, namespace)
        if inspect.isawaitable(value) and last.co_flags & CO_COROUTINE:
            value = await value  # the final expression awaits (e.g. `await asyncio.sleep(0)`)
        return (value,)


def result(final: tuple[object] | None) -> dict[str, object]:
    """The task's result: `result_repr` always, and `value`, the value itself, when it is plain
    data (offload.functions.is_plain) of at most MAX_VALUE_ITEMS items."""
    if final is None:
        return {"result_repr": None}
    value = final[0]
    if is_plain(value, MAX_VALUE_ITEMS):
        return {"result_repr": shown(value), "value": value}
    return {"result_repr": shown(value)}


def compiled(code: str, flags: int) -> tuple[CodeType, CodeType | None]:
    """The code's statements and, when it ends with an expression, that expression apart.

    Raises:
        SyntaxError: the code does not compile.
    """
    # Tracebacks read source lines through linecache; "<code>" is no file, so hand it the text
    # (an entry without mtime survives checkcache, and the next run replaces it).
    linecache.cache[USER_CODE] = (len(code), None, code.splitlines(keepends=True), USER_CODE)
    tree = ast.parse(code, USER_CODE, "exec")
    last: ast.expr | None = None
    if tree.body and isinstance(final := tree.body[-1], ast.Expr):
        tree.body.pop()
        last = final.value
    body = compile(tree, USER_CODE, "exec", flags=flags)
    if last is None:
        return body, None
    return body, compile(ast.Expression(last), USER_CODE, "eval", flags=flags)


def new_namespace() -> dict[str, object]:
    return {"__name__": "__main__", "__builtins__": __builtins__}


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "..."


@contextlib.contextmanager
def hinted_imports() -> Iterator[None]:
    """Turn a ModuleNotFoundError for a module nobody can load into one that says how to add it."""
    try:
        yield
    except ModuleNotFoundError as error:
        top = (error.name or "").split(".")[0]
        hint = missing_module_hint(top, interactive.current()) if top else None
        if hint is None or importlib.util.find_spec(top) is not None:
            raise
        raise ModuleNotFoundError(hint, name=error.name).with_traceback(
            error.__traceback__
        ) from None


@contextlib.contextmanager
def redirected(stdout: OutputStream, stderr: OutputStream) -> Iterator[None]:
    """Swap sys.stdout/stderr/stdin, `input` and `time.sleep` for the console's, then restore.

    `input()` asks through the installed console (offload.interactive); `time.sleep` flushes
    pending output first, which matters in a worker: nothing runs while Python sleeps, so a line
    printed just before `time.sleep(5)` would otherwise wait in the batch for five seconds.
    """
    console = interactive.current()

    def flush() -> None:
        stdout.flush()
        stderr.flush()

    saved = sys.stdout, sys.stderr, sys.stdin, builtins.input, time.sleep
    sys.stdout, sys.stderr, sys.stdin = stdout, stderr, interactive.InputStream(console)
    builtins.input = interactive.make_input(console, stdout)
    time.sleep = interactive.make_sleep(console, flush)
    try:
        yield
    finally:
        sys.stdout, sys.stderr, sys.stdin, builtins.input, time.sleep = saved
        flush()


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    """Task adapter: `{code}` -> `{result_repr, value?}` (see `result`)."""
    reject_unknown_params("run_code", params, PARAMS)
    return result(execute(CODE.read("run_code", params), ctx))


async def run_async(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    """Task adapter for hosts with an event loop: top-level `await` allowed."""
    reject_unknown_params("run_code", params, PARAMS)
    return result(await execute_async(CODE.read("run_code", params), ctx))
