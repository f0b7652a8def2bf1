"""The benchmark's report: table text, verdicts, the JSON document and the chart file."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from bench.chart import draw
from bench.report import busy_note, document, markdown, number, table, verdict
from bench.rows import REPORT, Row, at_least, at_most, not_measured

ROWS = [
    Row("frame gap", "worker ÷ main thread", 16.7, 1283.0, "ms", at_most(0.05, figure_max=50)),
    Row("pool", "1 ÷ 2 workers", 1200.0, 1000.0, "ms", at_least(1.6), "mandelbrot"),
    Row("socket fan-out", "N = 100", 29591.0, 1679.0, "msg/s", REPORT),
    not_measured("end to end", "p50", REPORT, "no montecarlo_pi task"),
]


def test_numbers_get_three_significant_digits_and_their_unit() -> None:
    assert number(1283.4, "ms") == "1,283 ms"
    assert number(16.71, "ms") == "16.7 ms"
    assert number(1.875) == "1.88"
    assert number(0.01234) == "0.0123"
    assert number(None, "ms") == "—"


def test_each_row_gets_pass_miss_report_or_not_measured() -> None:
    assert [verdict(row) for row in ROWS] == ["PASS", "MISS", "report", "not measured"]


def test_the_table_names_every_miss_and_every_row_not_measured() -> None:
    text = table(ROWS)
    assert "MISSED: pool / 1 ÷ 2 workers: ratio 1.20, goal ≥ 1.6" in text
    assert "end to end / p50: not measured: no montecarlo_pi task" in text
    assert text.rstrip().endswith("1 of 2 goals met.")


def test_the_json_document_holds_each_row_with_its_baseline_ratio_goal_and_verdict() -> None:
    doc = document(ROWS, {"cores": 2}, quick=True, seconds=61.23)
    encoded = json.loads(json.dumps(doc))
    assert encoded["machine"] == {"cores": 2}
    assert encoded["goals_met"] == 1
    assert encoded["goals_judged"] == 2
    first = encoded["rows"][0]
    assert first == {
        "metric": "frame gap",
        "name": "worker ÷ main thread",
        "figure": 16.7,
        "baseline": 1283.0,
        "unit": "ms",
        "ratio": 0.01302,
        "goal": "≤ 0.05, figure ≤ 50 ms",
        "met": True,
        "note": "",
    }
    assert encoded["rows"][3]["figure"] is None
    assert encoded["rows"][3]["met"] is None


def test_the_markdown_says_how_to_rerun_and_where_it_ran() -> None:
    text = markdown(ROWS, {"cpu": "AMD EPYC", "cores": 2}, "python3 build.py bench")
    assert "`python3 build.py bench`" in text
    assert "Machine: cpu AMD EPYC, cores 2." in text
    assert "| pool | 1 ÷ 2 workers | 1,200 ms | 1,000 ms | 1.20 | ≥ 1.6 | MISS |" in text


def test_the_chart_is_a_png_with_a_bar_per_ratio(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    draw(ROWS, "test", path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.height > 3 * 30


def test_a_busy_machine_is_called_out_and_an_idle_one_is_not() -> None:
    assert busy_note(1.5, 2) is None
    note = busy_note(6.6, 2)
    assert note is not None
    assert "load average 6.6 on 2 cores" in note
    assert f"**{note}**" in markdown(ROWS, {"cores": 2}, "python3 build.py bench", note)
