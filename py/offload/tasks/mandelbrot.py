"""Draw the Mandelbrot set as RGBA pixels, whole or one band of rows at a time.

Every pixel depends only on its own coordinates, so any split into row bands, computed anywhere
and in any order, concatenates to exactly the bytes of the whole image. Only +, -, * and / on
floats are used (no log or sqrt, whose last bit may differ between C libraries), so CPython and
Pyodide produce identical bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

from offload.params import (
    IntParam,
    NumberParam,
    ParameterError,
    RangeParam,
    reject_unknown_params,
)
from offload.runtime import SILENT, TaskContext

MAX_SIDE = 8192
MAX_ITER = 100_000
# 64 MB of RGBA: a typo like width=100000 is refused instead of allocating gigabytes.
MAX_PIXELS = 16_000_000
# A bound on the work too (pixels x iterations), roughly ten minutes natively.
MAX_WORK = 20_000_000_000

WIDTH = IntParam("width", "image width in pixels", 480, minimum=1, maximum=MAX_SIDE)
HEIGHT = IntParam("height", "image height in pixels", 320, minimum=1, maximum=MAX_SIDE)
ITERATIONS = IntParam(
    "max_iter", "iterations before a point counts as inside", 200, minimum=1, maximum=MAX_ITER
)
X_MIN = NumberParam(
    "x_min", "left edge (real axis)", -2.25, minimum=-10, maximum=10, required=False
)
X_MAX = NumberParam(
    "x_max", "right edge (real axis)", 0.75, minimum=-10, maximum=10, required=False
)
Y_MIN = NumberParam(
    "y_min", "bottom edge (imaginary axis)", -1.0, minimum=-10, maximum=10, required=False
)
Y_MAX = NumberParam(
    "y_max", "top edge (imaginary axis)", 1.0, minimum=-10, maximum=10, required=False
)
ROWS = RangeParam(
    "rows", "only rows [start, stop) of the image (a band); all rows when absent", bound=HEIGHT
)
PARAMS = (WIDTH, HEIGHT, ITERATIONS, X_MIN, X_MAX, Y_MIN, Y_MAX, ROWS)

INSIDE = bytes((0, 0, 0, 255))


def palette(max_iter: int) -> list[bytes]:
    """The RGBA colour of each escape count 0..max_iter-1, then black for "inside" (max_iter)."""
    colours = []
    for i in range(max_iter):
        t = i / max_iter
        # Bernstein polynomials: dark blue through orange to white, smooth and cheap.
        r = int(9 * (1 - t) * t * t * t * 255)
        g = int(15 * (1 - t) * (1 - t) * t * t * 255)
        b = int(8.5 * (1 - t) * (1 - t) * (1 - t) * t * 255)
        colours.append(bytes((r, g, b, 255)))
    colours.append(INSIDE)
    return colours


def render(
    width: int,
    height: int,
    max_iter: int,
    *,
    x_min: float = -2.25,
    x_max: float = 0.75,
    y_min: float = -1.0,
    y_max: float = 1.0,
    rows: tuple[int, int] | None = None,
    ctx: TaskContext = SILENT,
) -> bytes:
    """RGBA pixels of rows [start, stop) (all rows when `rows` is None), top row first.

    Pixel (row, col) samples the centre of its cell: x = x_min + (col + 0.5) * (x_max - x_min) /
    width, and y from y_max downwards, so the image is upright.
    """
    start, stop = rows if rows is not None else (0, height)
    colours = palette(max_iter)
    dx = (x_max - x_min) / width
    dy = (y_max - y_min) / height
    xs = [x_min + (col + 0.5) * dx for col in range(width)]
    out = bytearray()
    for row in range(start, stop):
        ci = y_max - (row + 0.5) * dy
        line = []
        for cr in xs:
            # The escape loop inlined, with the squares kept: this line is where the time goes.
            zr = zi = zr2 = zi2 = 0.0
            i = 0
            while i < max_iter and zr2 + zi2 <= 4.0:
                zi = 2 * zr * zi + ci
                zr = zr2 - zi2 + cr
                zr2 = zr * zr
                zi2 = zi * zi
                i += 1
            line.append(colours[i])
        out += b"".join(line)
        ctx.progress(row + 1 - start, stop - start)
    return bytes(out)


def run(params: Mapping[str, object], ctx: TaskContext) -> bytes:
    """Task adapter: `{width, height, max_iter, x_min?, x_max?, y_min?, y_max?, rows?}` -> RGBA."""
    reject_unknown_params("mandelbrot", params, PARAMS)
    width = WIDTH.read("mandelbrot", params)
    height = HEIGHT.read("mandelbrot", params)
    max_iter = ITERATIONS.read("mandelbrot", params)
    x_min, x_max = X_MIN.read("mandelbrot", params), X_MAX.read("mandelbrot", params)
    y_min, y_max = Y_MIN.read("mandelbrot", params), Y_MAX.read("mandelbrot", params)
    if not x_min < x_max:
        raise ParameterError(f"mandelbrot: x_min must be less than x_max, got {x_min} and {x_max}")
    if not y_min < y_max:
        raise ParameterError(f"mandelbrot: y_min must be less than y_max, got {y_min} and {y_max}")
    if width * height > MAX_PIXELS:
        raise ParameterError(
            f"mandelbrot: width*height is {width * height:_} pixels; the limit is {MAX_PIXELS:_}"
        )
    if width * height * max_iter > MAX_WORK:
        raise ParameterError(
            f"mandelbrot: width*height*max_iter is {width * height * max_iter:_}; "
            f"the limit is {MAX_WORK:_}"
        )
    rows = ROWS.read("mandelbrot", params)
    return render(
        width,
        height,
        max_iter,
        x_min=x_min,
        x_max=x_max,
        y_min=y_min,
        y_max=y_max,
        rows=rows,
        ctx=ctx,
    )
