"""The mandelbrot task draws exactly what a plain complex-number loop draws, band by band."""

from __future__ import annotations

import itertools

import pytest

from offload.params import ParameterError
from offload.runtime import TaskContext
from offload.tasks import TASKS, run_task
from offload.tasks.mandelbrot import INSIDE, palette, render


def reference(width: int, height: int, max_iter: int) -> bytes:
    """The textbook definition with Python's complex type, over the default view."""
    x_min, x_max, y_min, y_max = -2.25, 0.75, -1.0, 1.0
    colours = palette(max_iter)
    out = bytearray()
    for row in range(height):
        for col in range(width):
            c = complex(
                x_min + (col + 0.5) * ((x_max - x_min) / width),
                y_max - (row + 0.5) * ((y_max - y_min) / height),
            )
            z = 0j
            count = max_iter
            for i in range(max_iter):
                if z.real * z.real + z.imag * z.imag > 4.0:
                    count = i
                    break
                z = z * z + c
            out += colours[count]
    return bytes(out)


@pytest.mark.parametrize(("width", "height", "max_iter"), [(1, 1, 1), (7, 5, 20), (40, 30, 60)])
def test_pixels_match_the_complex_number_reference(width: int, height: int, max_iter: int) -> None:
    assert run_task("mandelbrot", {"width": width, "height": height, "max_iter": max_iter}) == (
        reference(width, height, max_iter)
    )


def test_the_image_has_width_times_height_rgba_pixels_and_an_opaque_inside() -> None:
    image = render(64, 48, 100)
    assert len(image) == 64 * 48 * 4
    assert image[3::4] == b"\xff" * (64 * 48)
    centre = (24 * 64 + 40) * 4  # x = -0.36, y = 0: deep inside the main cardioid
    assert image[centre : centre + 4] == INSIDE


@pytest.mark.parametrize("cuts", [[0, 48], [0, 1, 48], [0, 16, 17, 40, 48], list(range(49))])
def test_any_split_into_row_bands_concatenates_to_the_whole_image(cuts: list[int]) -> None:
    params = {"width": 33, "height": 48, "max_iter": 80}
    bands = [
        run_task("mandelbrot", {**params, "rows": [start, stop]})
        for start, stop in itertools.pairwise(cuts)
    ]
    assert b"".join(bands) == run_task("mandelbrot", params)  # type: ignore[arg-type]


def test_a_view_can_be_chosen() -> None:
    zoomed = run_task(
        "mandelbrot",
        {
            "width": 8,
            "height": 8,
            "max_iter": 50,
            "x_min": -0.1,
            "x_max": 0.1,
            "y_min": -0.1,
            "y_max": 0.1,
        },
    )
    assert zoomed == INSIDE * 64  # all inside the cardioid around 0


def test_progress_counts_the_rows_of_the_band() -> None:
    seen: list[tuple[int, int]] = []
    render(
        10, 50, 10, rows=(10, 30), ctx=TaskContext(lambda d, t: seen.append((d, t)), min_interval=0)
    )
    assert seen == [(row, 20) for row in range(1, 21)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"height": 10, "max_iter": 10}, "missing parameter 'width'"),
        ({"width": 0, "height": 10, "max_iter": 10}, "width must be between 1 and 8_192, got 0"),
        ({"width": 10, "height": 10, "max_iter": "many"}, "max_iter must be an integer"),
        (
            {"width": 8000, "height": 8000, "max_iter": 1},
            "width\\*height is 64_000_000 pixels; the limit",
        ),
        ({"width": 4000, "height": 4000, "max_iter": 100_000}, "width\\*height\\*max_iter is"),
        ({"width": 10, "height": 10, "max_iter": 10, "x_min": 1, "x_max": 0}, "x_min must be less"),
        ({"width": 10, "height": 10, "max_iter": 10, "y_max": "up"}, "y_max must be a number"),
        (
            {"width": 10, "height": 10, "max_iter": 10, "rows": [3]},
            "rows must be a list \\[start, stop\\]",
        ),
        (
            {"width": 10, "height": 10, "max_iter": 10, "rows": [5, 5]},
            "rows\\[1\\] must be between 6 and 10",
        ),
        (
            {"width": 10, "height": 10, "max_iter": 10, "rows": [0, 11]},
            "rows\\[1\\] must be between 1 and 10",
        ),
        ({"width": 10, "height": 10, "max_iter": 10, "zoom": 2}, "unknown parameter 'zoom'"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        run_task("mandelbrot", params)


def test_the_defaults_are_a_valid_request() -> None:
    defaults = TASKS["mandelbrot"].defaults
    assert defaults == {
        "width": 480,
        "height": 320,
        "max_iter": 200,
        "x_min": -2.25,
        "x_max": 0.75,
        "y_min": -1.0,
        "y_max": 1.0,
    }
    small = {**defaults, "width": 16, "height": 12}
    assert len(run_task("mandelbrot", small)) == 16 * 12 * 4
