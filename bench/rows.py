"""The benchmark's vocabulary: a goal, a row (figure, baseline, ratio, pass/miss) and statistics.

No I/O here: the measurements build rows, the report prints them, and the tests check the logic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Op = Literal["<=", ">=", "report"]


@dataclass(frozen=True)
class Goal:
    """What a row's ratio should be: `<= limit`, `>= limit`, or only reported.

    `figure_max` adds a limit on the figure itself (e.g. the worker's frame gap <= 50 ms).
    """

    op: Op
    limit: float | None = None
    figure_max: float | None = None

    def met(self, ratio: float | None, figure: float | None) -> bool | None:
        """True or False when the goal can be judged; None for report-only rows or no data."""
        if self.op == "report" or ratio is None or figure is None:
            return None
        assert self.limit is not None
        ok = ratio <= self.limit if self.op == "<=" else ratio >= self.limit
        if self.figure_max is not None:
            ok = ok and figure <= self.figure_max
        return ok

    def describe(self, unit: str = "") -> str:
        """The goal as a person reads it, e.g. `<= 0.05, figure <= 50 ms`."""
        if self.op == "report":
            return "report"
        text = f"{'≤' if self.op == '<=' else '≥'} {self.limit:g}"
        if self.figure_max is not None:
            text += f", figure ≤ {self.figure_max:g}{' ' + unit if unit else ''}"
        return text


REPORT = Goal("report")


def at_most(limit: float, figure_max: float | None = None) -> Goal:
    return Goal("<=", limit, figure_max)


def at_least(limit: float) -> Goal:
    return Goal(">=", limit)


@dataclass(frozen=True)
class Row:
    """One line of the report: `figure ÷ baseline = ratio`, judged against `goal`.

    Args:
        metric: the group it belongs to ("frame gap", "socket RTT", ...).
        name: what exactly this row measures, short.
        figure: Offload's number (None when not measured).
        baseline: the comparison measured in the same run (None when there is none).
        unit: the unit of figure and baseline ("ms", "MB", "msg/s", ...).
        goal: what the ratio should be.
        note: how it was measured, or why it was not.
    """

    metric: str
    name: str
    figure: float | None
    baseline: float | None
    unit: str
    goal: Goal = REPORT
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return ratio(self.figure, self.baseline)

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.ratio, self.figure)

    @property
    def measured(self) -> bool:
        return self.figure is not None

    def to_json(self) -> dict[str, object]:
        """The row as the JSON report holds it."""
        return {
            "metric": self.metric,
            "name": self.name,
            "figure": rounded(self.figure),
            "baseline": rounded(self.baseline),
            "unit": self.unit,
            "ratio": rounded(self.ratio),
            "goal": self.goal.describe(self.unit),
            "met": self.met,
            "note": self.note,
            **({"extra": self.extra} if self.extra else {}),
        }


def not_measured(metric: str, name: str, goal: Goal, reason: str) -> Row:
    """A row that could not be measured in this run; `reason` says why."""
    return Row(metric, name, None, None, "", goal, f"not measured: {reason}")


def ratio(figure: float | None, baseline: float | None) -> float | None:
    """figure ÷ baseline, or None when either is missing or the baseline is zero."""
    if figure is None or baseline is None or baseline == 0:
        return None
    return figure / baseline


def rounded(value: float | None, digits: int = 4) -> float | None:
    """`value` to `digits` significant digits (JSON need not carry float noise)."""
    if value is None or value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` (0..1) percentile, linearly interpolated between the nearest ranks.

    Raises:
        ValueError: `values` is empty.
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)
