"""Estimate pi by throwing seeded random points at the unit square and counting the quarter disc.

`random.Random` is the Mersenne Twister, implemented the same way (in C, integer arithmetic) on
every platform, and `random()` builds its double from two 32-bit draws exactly: a seed gives the
same points natively and in Pyodide, so the counts are identical, not just close.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from offload.params import IntParam, reject_unknown_params
from offload.runtime import SILENT, TaskContext

MAX_SAMPLES = 2_000_000_000  # ~10 minutes natively; memory is constant whatever the count
CHUNK = 65_536  # progress (and nothing else) happens between chunks

SAMPLES = IntParam(
    "samples", "how many random points to throw", 12_000_000, minimum=1, maximum=MAX_SAMPLES
)
SEED = IntParam("seed", "seed of the random generator", 1, minimum=0, maximum=2**53 - 1)  # JS-safe
PARAMS = (SAMPLES, SEED)


# The task's interface, defined here once: the server's distributed jobs send these params in
# `job_chunk` and take this result back in `chunk_result` (server/protocol.py uses these classes,
# which pydantic validates as it does its own models), and the page's types for both are generated
# from them (web/socket/protocol.js).


@dataclass(frozen=True)
class MonteCarloParams:
    """The params of the task `montecarlo_pi`: throw `samples` points from `random.Random(seed)`."""

    samples: int
    seed: int


@dataclass(frozen=True)
class MonteCarloResult:
    """What `montecarlo_pi` returns: how many of `samples` points fell inside; 4*inside/samples."""

    inside: int
    samples: int
    estimate: float


def count_inside(samples: int, seed: int, ctx: TaskContext = SILENT) -> int:
    """How many of `samples` points (x, y) from random.Random(seed) have x*x + y*y <= 1."""
    draw = random.Random(seed).random
    inside = 0
    done = 0
    while done < samples:
        chunk = min(CHUNK, samples - done)
        for _ in range(chunk):
            x = draw()
            y = draw()
            if x * x + y * y <= 1.0:
                inside += 1
        done += chunk
        ctx.progress(done, samples)
    return inside


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    """Task adapter: `{samples, seed}` (MonteCarloParams) -> `{inside, samples, estimate}`
    (MonteCarloResult, as the plain dict the worker hands to JavaScript)."""
    reject_unknown_params("montecarlo_pi", params, PARAMS)
    samples = SAMPLES.read("montecarlo_pi", params)
    seed = SEED.read("montecarlo_pi", params)
    inside = count_inside(samples, seed, ctx)
    return asdict(MonteCarloResult(inside=inside, samples=samples, estimate=4 * inside / samples))
