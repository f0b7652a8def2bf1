"""Count the primes up to n with a segmented sieve of Eratosthenes."""

from __future__ import annotations

import math
from collections.abc import Mapping

from offload.params import IntParam, reject_unknown_params
from offload.runtime import SILENT, TaskContext

MAX_N = 1_000_000_000  # ~7 s natively; memory stays small because the sieve is segmented
SEGMENT = 1 << 16  # a segment fits in cache and gives ~30 progress points per million

N = IntParam("n", "count the primes up to n", 2_000_000, minimum=0, maximum=MAX_N)
PARAMS = (N,)


def count_primes(n: int, ctx: TaskContext = SILENT) -> int:
    """The number of primes p with 2 <= p <= n.

    The sieve runs segment by segment, so memory stays O(sqrt(n) + SEGMENT) whatever n is and the
    task reports progress after every segment.
    """
    if n < 2:
        return 0
    root = math.isqrt(n)
    small = bytearray([1]) * (root + 1)
    small[0:2] = b"\x00\x00"
    for p in range(2, math.isqrt(root) + 1):
        if small[p]:
            small[p * p :: p] = bytes(len(range(p * p, root + 1, p)))
    base_primes = [p for p in range(2, root + 1) if small[p]]

    count = 0
    for low in range(2, n + 1, SEGMENT):
        high = min(low + SEGMENT, n + 1)  # this segment is [low, high)
        segment = bytearray([1]) * (high - low)
        for p in base_primes:
            if p * p >= high:
                break
            # the first multiple of p in the segment that is not p itself
            start = max(p * p, (low + p - 1) // p * p)
            segment[start - low :: p] = bytes(len(range(start, high, p)))
        count += segment.count(1)
        ctx.progress(high - 2, n - 1)
    return count


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, int]:
    """Task adapter: `{n}` -> `{count}`."""
    reject_unknown_params("primes", params, PARAMS)
    n = N.read("primes", params)
    return {"count": count_primes(n, ctx)}
