"""What a running task may use: throttled progress reports and batched output.

Tasks take a `TaskContext` and call `ctx.progress(done, total)` as often as they like; the context
forwards at most one report per `min_interval` seconds (plus one per tenth of the work, and the
final one), so reporting never costs measurable compute even when a task reports every few
microseconds. Cancellation needs no help from the task: in a Pyodide worker it arrives as
`Cancelled` (KeyboardInterrupt) through the interrupt buffer, wherever the task is.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

#: Receives (done, total) in the task's own units (numbers checked, rows drawn, samples taken).
ProgressSink = Callable[[int, int], None]
#: Receives (stream, text): stream is "stdout" or "stderr", text a batch of what was written.
OutputSink = Callable[[str, str], None]

DEFAULT_MIN_INTERVAL = 1 / 30  # ~30 reports a second is smooth for a progress bar
# ...and a report goes anyway once this fraction of the total is done since the last one, so even
# a task that ends in 50 ms shows a few steps (ten at most: still nothing to measure).
MIN_STEP = 1 / 10
# Output is held back at most this long (while the task keeps running Python) or this large, so a
# `print` in a tight loop costs a string append, not a message to the page per line.
MAX_PENDING_OUTPUT = 64 * 1024
# Past this much output a run's further output is dropped (once, with a note): a runaway print loop
# must not flood the page's memory.
MAX_OUTPUT = 2_000_000

#: The file name under which a person's own code runs (tasks/run_code.py compiles it so), and where
#: the bridge starts the tracebacks it reports: the reader's story begins in their own code.
USER_CODE = "<code>"

#: What a cancel is, on the Python side (worker/cancel.js is the JavaScript side): in a Pyodide
#: worker the page's SIGINT in the interrupt buffer raises it wherever the task is, and the bridge
#: reports it as a cancel rather than an error. Code that must tell a cancel apart asks this name.
Cancelled = KeyboardInterrupt


class TaskContext:
    """The channel from a running task back to whoever runs it.

    Args:
        on_progress: called with (done, total); None discards progress.
        on_output: called with (stream, text) for output written to `output_stream`s; None
            discards it.
        min_interval: the least time between two forwarded reports (and output batches), in
            seconds, unless a tenth of the total was done since the last report.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        on_progress: ProgressSink | None = None,
        *,
        on_output: OutputSink | None = None,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_progress = on_progress
        self._on_output = on_output
        self._output_left = MAX_OUTPUT
        self._min_interval = min_interval
        self._last_done = 0
        self._clock = clock
        self._last_report = -float("inf")
        self.reports_sent = 0

    def progress(self, done: int, total: int) -> None:
        """Report that `done` of `total` units are done (throttled; the last one always goes)."""
        if self._on_progress is None:
            return
        now = self._clock()
        if (
            done < total
            and now - self._last_report < self._min_interval
            and done - self._last_done < total * MIN_STEP
        ):
            return
        self._last_report = now
        self._last_done = done
        self.reports_sent += 1
        self._on_progress(done, total)

    def output_stream(self, stream: str) -> OutputStream:
        """A text file whose writes reach `on_output` in (stream, text) batches."""
        return OutputStream(self, stream)

    def _emit(self, stream: str, text: str) -> None:
        if self._on_output is None or self._output_left <= 0:
            return
        if len(text) > self._output_left:
            text = (
                text[: self._output_left] + "\n[output truncated: more than 2,000,000 characters]\n"
            )
        self._output_left -= len(text)
        self._on_output(stream, text)


class OutputStream(io.TextIOBase):
    """A write-only text stream that forwards its text in batches, for `sys.stdout` replacement.

    A write that completes a line is forwarded at once when `min_interval` has passed since the
    last batch (so the first line of a burst shows immediately); otherwise it waits for a later
    write, for `flush()`, or for the buffer to pass MAX_PENDING_OUTPUT characters.
    The runner must `flush()` when the task ends.
    """

    def __init__(self, ctx: TaskContext, stream: str) -> None:
        super().__init__()
        self._ctx = ctx
        self._stream = stream
        self._pending: list[str] = []
        self._pending_size = 0
        self._last_flush = -float("inf")

    @property
    def name(self) -> str:
        return f"<{self._stream}>"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._pending.append(text)
            self._pending_size += len(text)
            now = self._ctx._clock()
            # Whole lines only: `print` writes the text and its "\n" separately.
            if (
                "\n" in text and now - self._last_flush >= self._ctx._min_interval
            ) or self._pending_size >= MAX_PENDING_OUTPUT:
                self.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            self._last_flush = self._ctx._clock()
            self._ctx._emit(self._stream, text)


#: A context that reports nothing.
SILENT = TaskContext()

# Where `progress` reports go: the running call's context in a worker, a developer's hook natively.
_reporter: ContextVar[ProgressSink | None] = ContextVar("offload_reporter", default=None)


def progress(done: int, total: int) -> None:
    """Report that `done` of `total` units of the current call are done, from any code.

    `from offload import progress` is all a developer's own function needs: in a worker
    (`worker.call`, `run_code`) the report reaches the page's `onProgress`, throttled like a task's
    `ctx.progress`; natively it is a no-op unless a `reporting` block is active.
    """
    sink = _reporter.get()
    if sink is not None:
        sink(done, total)


@contextlib.contextmanager
def reporting(sink: ProgressSink | None) -> Iterator[None]:
    """Send `progress` reports made inside the block to `sink` (a TaskContext's `progress`, or a
    hook of your own natively: `with reporting(lambda done, total: print(done, total)): ...`)."""
    token = _reporter.set(sink)
    try:
        yield
    finally:
        _reporter.reset(token)
