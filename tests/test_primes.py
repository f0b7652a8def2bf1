"""The primes task counts primes exactly and refuses parameters it cannot use."""

from __future__ import annotations

import pytest

from offload.params import ParameterError
from offload.runtime import TaskContext
from offload.tasks import run_task
from offload.tasks.primes import SEGMENT, count_primes


def naive_count(n: int) -> int:
    return sum(all(k % d for d in range(2, int(k**0.5) + 1)) for k in range(2, n + 1))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 10, 97, 100, 1000, 4099])
def test_counts_match_trial_division(n: int) -> None:
    assert count_primes(n) == naive_count(n)


@pytest.mark.parametrize("n", [SEGMENT - 1, SEGMENT, SEGMENT + 1, SEGMENT + 2, 3 * SEGMENT + 7])
def test_segment_boundaries_are_counted_once(n: int) -> None:
    # The reference here is a plain, unsegmented sieve.
    sieve = bytearray([1]) * (n + 1)
    sieve[0:2] = b"\x00\x00"
    for p in range(2, int(n**0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytes(len(range(p * p, n + 1, p)))
    assert count_primes(n) == sieve.count(1)


def test_known_values() -> None:
    assert run_task("primes", {"n": 2_000_000}) == {"count": 148_933}
    assert run_task("primes", {"n": 10_000_000}) == {"count": 664_579}


def test_reports_progress_up_to_the_total() -> None:
    reports: list[tuple[int, int]] = []
    count_primes(
        1_000_000, TaskContext(lambda done, total: reports.append((done, total)), min_interval=0)
    )
    assert len(reports) > 10
    assert reports[-1] == (999_999, 999_999)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "missing parameter 'n'"),
        ({"n": "ten"}, "n must be an integer, got 'ten'"),
        ({"n": True}, "n must be an integer, got True"),
        ({"n": -1}, "n must be between 0 and 1_000_000_000, got -1"),
        ({"n": 10**12}, "got 1_000_000_000_000"),
        ({"n": 10, "m": 3}, "unknown parameter 'm'; it takes n"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        run_task("primes", params)


def test_integral_floats_from_javascript_are_accepted() -> None:
    assert run_task("primes", {"n": 100.0}) == {"count": 25}
