"""Run a person's own Python, streaming what it prints, and return the value of its last line.

Like a REPL cell: statements run in a fresh namespace, and when the code ends with an expression
its `repr` is the result. `sys.stdout`/`sys.stderr` are swapped for the task's output streams
while the code runs, so `print` reaches the page in batches as it happens, natively and in Pyodide
alike (no need for Pyodide's `setStdout`, and the native tests see exactly what the page sees).
"""

from __future__ import annotations

import ast
import contextlib
import io
import linecache
import sys
import time
from collections.abc import Iterator, Mapping
from typing import SupportsIndex

from offload.params import TextParam, reject_unknown_params
from offload.runtime import USER_CODE, OutputStream, TaskContext

MAX_CODE = 100_000  # characters; a paste of a whole module fits, a runaway generator does not
MAX_REPR = 10_000  # characters of the result's repr sent back

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
        SyntaxError: the code does not compile (Python's own message, line and caret).
        BaseException: whatever the code raises, unchanged.
    """
    # Tracebacks read source lines through linecache; "<code>" is no file, so hand it the text
    # (an entry without mtime survives checkcache, and the next run replaces it).
    linecache.cache[USER_CODE] = (len(code), None, code.splitlines(keepends=True), USER_CODE)
    tree = ast.parse(code, USER_CODE, "exec")
    last: ast.expr | None = None
    if tree.body and isinstance(final := tree.body[-1], ast.Expr):
        tree.body.pop()
        last = final.value
    namespace: dict[str, object] = {"__name__": "__main__", "__builtins__": __builtins__}
    stdout, stderr = ctx.output_stream("stdout"), ctx.output_stream("stderr")
    with redirected(stdout, stderr):
        exec(compile(tree, USER_CODE, "exec"), namespace)
        if last is None:
            return None
        value = eval(compile(ast.Expression(last), USER_CODE, "eval"), namespace)
    text = repr(value)
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "..."


@contextlib.contextmanager
def redirected(stdout: OutputStream, stderr: OutputStream) -> Iterator[None]:
    """Swap sys.stdout/stderr/stdin and make `time.sleep` flush pending output first.

    The sleep hook matters in a worker: nothing runs while Python sleeps, so a line printed just
    before `time.sleep(5)` would otherwise wait in the batch for five seconds.
    """
    sleep = time.sleep

    def flushing_sleep(seconds: float | SupportsIndex) -> None:
        stdout.flush()
        stderr.flush()
        sleep(seconds)

    time.sleep = flushing_sleep
    saved = sys.stdout, sys.stderr, sys.stdin
    # No one can type into a worker: input() gets end-of-file at once instead of blocking.
    sys.stdout, sys.stderr, sys.stdin = stdout, stderr, io.StringIO()
    try:
        yield
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved
        time.sleep = sleep
        stdout.flush()
        stderr.flush()


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    """Task adapter: `{code}` -> `{result_repr}` (None when the code ends with a statement)."""
    reject_unknown_params("run_code", params, PARAMS)
    return {"result_repr": run_source(CODE.read("run_code", params), ctx)}
