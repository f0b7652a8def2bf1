"""How much the benchmark does: task sizes and repetitions for `--quick` and the full run.

How long a run takes (the one statement of it; README and `--help` point here): the sizes below
were picked for the full run to finish in under 10 minutes and `--quick` in about 3 on an idle
2-core machine (native task times noted are on that machine). Under load both take longer: a
`--quick` run took 586 s at load average 21. Every run prints, and its JSON records, its own time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Params = dict[str, object]


@dataclass(frozen=True)
class Plan:
    """Everything that differs between a quick and a full run."""

    quick: bool
    #: Per task: params for the speed and overhead rows (about 0.5 s natively at full size).
    speed_tasks: dict[str, Params] = field(default_factory=dict)
    speed_reps: int = 3
    #: The task run on the main thread and in the worker for frame gap and input delay.
    responsive_task: tuple[str, Params] = ("montecarlo_pi", {"samples": 8_000_000, "seed": 1})
    responsive_reps: int = 3
    startup_reps: int = 3
    #: Visits per side for "service worker cache ÷ HTTP cache": the two differ by less than one
    #: visit's noise (about a tenth), so its median needs more visits than the other start-up rows.
    cache_visits: int = 9
    pool_params: Params = field(default_factory=dict)
    pool_reps: int = 2
    #: The run asked for on page load ("pool from page load"): the same size in quick and full
    #: runs, because what start-up adds is a fixed cost, so the ratio depends on the run's length
    #: (~2 s on the booted pool of 2, as the full "pool" rows).
    load_pool_params: Params = field(
        default_factory=lambda: {"width": 640, "height": 480, "max_iter": 200}
    )
    transfer_bytes: int = 16 * 1024 * 1024
    transfer_reps: int = 10
    rtt_count: int = 1000
    #: N receivers -> results the sender sends (deliveries = N x results, bounded).
    fanout: dict[int, int] = field(default_factory=dict)
    e2e_chunks: int = 100
    e2e_chunk_samples: int = 20_000
    #: Rows of the generated CSV parsed natively and in the worker (~150 bytes a row: ~22 MB,
    #: the issue's "≥ 20 MB" also in a quick run: smaller files measure start-up more than
    #: throughput (3 MB gave 3.4x where 22 MB gave 2.4x), and a run costs ~1 s natively, ~2 s
    #: in the worker).
    csv_rows: int = 150_000
    csv_reps: int = 3
    input_bytes: int = 64 * 1024 * 1024
    cancel_reps: int = 5


def make_plan(quick: bool) -> Plan:
    """The plan for a quick or a full run."""
    scale = 2 if quick else 1
    return Plan(
        quick=quick,
        speed_tasks={
            "primes": {"n": 50_000_000 // scale},  # ~0.5 s natively
            "montecarlo_pi": {"samples": 3_000_000 // scale, "seed": 7},  # ~0.4 s
            "mandelbrot": {"width": 320, "height": 240 // scale, "max_iter": 200},  # ~0.6 s
            "run_code": {"code": f"sum(i * i for i in range({4_000_000 // scale}))"},
        },
        speed_reps=2 if quick else 3,
        responsive_task=(
            "montecarlo_pi",
            {"samples": 5_000_000 if quick else 8_000_000, "seed": 1},
        ),
        responsive_reps=1 if quick else 3,
        startup_reps=1 if quick else 3,
        cache_visits=5 if quick else 9,
        pool_params={"width": 640, "height": 240 if quick else 480, "max_iter": 200},
        pool_reps=1 if quick else 2,
        transfer_reps=5 if quick else 10,
        rtt_count=300 if quick else 1000,
        fanout={1: 300, 100: 50, 1000: 10} if quick else {1: 1000, 100: 200, 1000: 30},
        e2e_chunks=30 if quick else 100,
        cancel_reps=3 if quick else 5,
    )
