"""Runs Offload's tasks natively, in this process, with `offload.tasks.run_task`: the baseline for
"Python speed in the worker". The same package the wheel is built from (py/), same params.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The task package is not installed into .venv (it becomes a wheel for the browser); pytest finds
# it through `pythonpath`, the benchmark through this.
if str(ROOT / "py") not in sys.path:
    sys.path.insert(0, str(ROOT / "py"))

from offload.tasks import TASKS, run_task  # noqa: E402


def available_tasks() -> set[str]:
    """The names of the tasks this checkout has."""
    return set(TASKS)


def time_task(task: str, params: Mapping[str, object], reps: int) -> list[float]:
    """Milliseconds per run of `task` natively, `reps` times (no progress sink, like the worker's
    throttled one it costs nothing measurable)."""
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        run_task(task, params)
        times.append((time.perf_counter() - started) * 1000)
    return times
