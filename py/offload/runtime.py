"""What a running task may use: throttled progress reports and a cancellation check.

Tasks take a `TaskContext` and call `ctx.progress(done, total)` as often as they like; the context
forwards at most one report per `min_interval` seconds (plus the final one), so reporting never costs
measurable compute even when a task reports every few microseconds. In a Pyodide worker,
cancellation arrives as `KeyboardInterrupt` through the interrupt buffer and needs no help from the
task; natively, a caller may pass `is_cancelled` and the task's `ctx.check_cancelled()` raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Receives (done, total) in the task's own units (numbers checked, rows drawn, samples taken).
ProgressSink = Callable[[int, int], None]

DEFAULT_MIN_INTERVAL = 1 / 30  # ~30 reports a second is smooth for a progress bar


class TaskCancelled(Exception):
    """Raised by `TaskContext.check_cancelled` when the caller asked the task to stop."""


class TaskContext:
    """The channel from a running task back to whoever runs it.

    Args:
        on_progress: called with (done, total); None discards progress.
        min_interval: the least time between two forwarded reports, in seconds.
        is_cancelled: polled by `check_cancelled`; None means never cancelled.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        on_progress: ProgressSink | None = None,
        *,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        is_cancelled: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_progress = on_progress
        self._min_interval = min_interval
        self._is_cancelled = is_cancelled
        self._clock = clock
        self._last_report = -float("inf")
        self.reports_sent = 0

    def progress(self, done: int, total: int) -> None:
        """Report that `done` of `total` units are finished (throttled; the last one always goes)."""
        if self._on_progress is None:
            return
        now = self._clock()
        if done < total and now - self._last_report < self._min_interval:
            return
        self._last_report = now
        self.reports_sent += 1
        self._on_progress(done, total)

    def check_cancelled(self) -> None:
        """Raise `TaskCancelled` if the caller asked to stop.

        Raises:
            TaskCancelled: the `is_cancelled` callback returned True.
        """
        if self._is_cancelled is not None and self._is_cancelled():
            raise TaskCancelled("the task was cancelled")


#: A context that reports nothing and is never cancelled.
SILENT = TaskContext()
