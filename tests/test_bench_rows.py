"""The benchmark's pure logic: goals, ratios and statistics (no timing is asserted anywhere)."""

from __future__ import annotations

import pytest

from bench.rows import (
    REPORT,
    Goal,
    Row,
    at_least,
    at_most,
    not_measured,
    percentile,
    ratio,
    rounded,
)


def test_a_ratio_is_figure_over_baseline() -> None:
    assert ratio(30.0, 60.0) == 0.5
    assert Row("pool", "1 ÷ 2", 1900.0, 1000.0, "ms").ratio == 1.9


def test_a_missing_or_zero_baseline_gives_no_ratio() -> None:
    assert ratio(None, 1.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


@pytest.mark.parametrize(
    ("goal", "figure", "baseline", "met"),
    [
        (at_most(1.1), 1.0, 1.0, True),
        (at_most(1.1), 1.2, 1.0, False),
        (at_least(1.6), 1.9, 1.0, True),
        (at_least(1.6), 1.5, 1.0, False),
        (at_most(0.05, figure_max=50), 20.0, 1000.0, True),
        (at_most(0.05, figure_max=50), 60.0, 10000.0, False),  # ratio fine, figure too big
        (REPORT, 5.0, 1.0, None),
        (at_most(2.0), None, 1.0, None),
    ],
)
def test_a_goal_is_met_when_the_ratio_and_figure_are_within_it(
    goal: Goal, figure: float | None, baseline: float, met: bool | None
) -> None:
    assert Row("m", "n", figure, baseline, "ms", goal).met is met


def test_goals_read_as_people_write_them() -> None:
    assert at_most(1.05).describe() == "≤ 1.05"
    assert at_least(1.6).describe() == "≥ 1.6"
    assert at_most(0.05, figure_max=50).describe("ms") == "≤ 0.05, figure ≤ 50 ms"
    assert REPORT.describe() == "report"


def test_a_row_not_measured_says_why_and_is_not_judged() -> None:
    row = not_measured("end to end", "p50", REPORT, "no job protocol")
    assert not row.measured
    assert row.met is None
    assert row.note == "not measured: no job protocol"


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_json_numbers_keep_four_significant_digits() -> None:
    assert rounded(1234.5678) == 1235
    assert rounded(0.0123456) == 0.01235
    assert rounded(None) is None
    assert rounded(0.0) == 0.0
