"""A bar chart of every judged ratio against its goal, drawn with Pillow (the one image library
the environment pins): one bar per row, on a log scale, green when the goal is met, red when not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.report import number, verdict
from bench.rows import Row

WIDTH = 1100
ROW_HEIGHT = 30
LEFT = 360  # room for "metric / name"
RIGHT = 150  # room for the ratio and verdict
TOP = 60
LOG_MIN, LOG_MAX = -3.0, 3.0  # ratios from 0.001 to 1000
COLOURS = {"PASS": "#2e7d32", "MISS": "#c62828", "report": "#607d8b"}


def x_of(ratio: float) -> float:
    """The pixel column of a ratio on the log axis (clamped to the plot)."""
    span = WIDTH - LEFT - RIGHT
    position = (math.log10(max(ratio, 10**LOG_MIN)) - LOG_MIN) / (LOG_MAX - LOG_MIN)
    return LEFT + span * min(max(position, 0.0), 1.0)


def draw(rows: Sequence[Row], title: str, path: Path) -> None:
    """Write the chart of `rows` (those with a ratio) to `path` as PNG."""
    shown = [row for row in rows if row.ratio is not None]
    height = TOP + ROW_HEIGHT * len(shown) + 50
    image = Image.new("RGB", (WIDTH, height), "white")
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    pen.text((10, 10), title, fill="black", font=ImageFont.load_default(size=18))
    pen.text(
        (10, 34),
        "ratio = figure / baseline, log scale; | is the goal; green met, red missed, grey report",
        fill="#444",
        font=small,
    )
    bottom = TOP + ROW_HEIGHT * len(shown)
    for exponent in range(int(LOG_MIN), int(LOG_MAX) + 1):
        x = x_of(10.0**exponent)
        pen.line([(x, TOP - 4), (x, bottom)], fill="#bbb" if exponent else "#444")
        pen.text((x - 12, bottom + 6), f"{10.0**exponent:g}", fill="#444", font=small)
    for index, row in enumerate(shown):
        assert row.ratio is not None
        y = TOP + index * ROW_HEIGHT
        # Pillow's built-in font has no "÷".
        label = f"{row.metric}: {row.name}".replace("÷", "/")
        pen.text((10, y + 7), label[:48], fill="black", font=font)
        kind = verdict(row)
        left, right = sorted((x_of(1.0), x_of(row.ratio)))
        pen.rectangle([left, y + 6, max(right, left + 1), y + ROW_HEIGHT - 6], fill=COLOURS[kind])
        if row.goal.limit is not None:
            goal_x = x_of(row.goal.limit)
            pen.line([(goal_x, y + 2), (goal_x, y + ROW_HEIGHT - 2)], fill="black", width=3)
        pen.text(
            (WIDTH - RIGHT + 10, y + 7), f"{number(row.ratio)}  {kind}", fill="black", font=font
        )
    image.save(path)
