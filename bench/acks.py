"""Durable acks: results acknowledged per second by the SQLite store, group commit against one
commit per result, with 1, 10 and 100 concurrent senders (issue 12).

Each sender awaits its ack before sending the next result, as a page does; an ack means the
row's transaction was committed with synchronous=FULL (fsynced). Both modes are the same
`Store`, the baseline with batches of one, on the same disk in the same run.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Protocol

from bench.rows import REPORT, Row, at_least, not_measured, percentile
from bench.socket import in_thread
from server.batcher import MAX_BATCH
from server.protocol import ResultMessage, StoredResult
from server.redis.link import RedisLink
from server.redis.store import RedisStore
from server.store import Store
from support.redis import RedisServer, redis_binary


class AckingStore(Protocol):
    """What the measurement needs of a store (the SQLite `Store` and `RedisStore` have it)."""

    @property
    def commits(self) -> int: ...

    async def add(self, client_id: str, message: ResultMessage) -> StoredResult | None: ...

    async def close(self) -> None: ...


async def acked_per_second(
    folder: Path, senders: int, seconds: float, max_batch: int
) -> tuple[float, list[float], int]:
    """The SQLite store in `folder`: see `measure_acks`."""
    store = await Store.open(folder, max_batch=max_batch)
    return await measure_acks(store, senders, seconds, f"sqlite-{max_batch}")


async def measure_acks(
    store: AckingStore, senders: int, seconds: float, tag: str
) -> tuple[float, list[float], int]:
    """Run `senders` senders for `seconds`; returns acks/s, each ack's latency (ms), commits.

    `tag` goes into every result id, so runs sharing one store do not collide.
    """
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def sender(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            message = ResultMessage(
                id=f"{tag}-{senders}-{n}-{i}",
                task="primes",
                params={"n": i},
                result={"count": i},
                duration_ms=1.0,
            )
            sent = time.perf_counter()
            await store.add("bench", message)
            latencies.append((time.perf_counter() - sent) * 1000)
            i += 1

    started = time.monotonic()
    try:
        await asyncio.gather(*(sender(n) for n in range(senders)))
    finally:
        elapsed = time.monotonic() - started
        await store.close()
    return len(latencies) / elapsed, latencies, store.commits


def durable_acks(senders_list: tuple[int, ...], seconds: float) -> list[Row]:
    """One row per sender count (group ÷ single acks/s) and one p99 latency row for each."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="offload-acks-") as scratch:
        for senders in senders_list:
            group = in_thread(
                lambda s=senders: acked_per_second(  # type: ignore[misc]
                    Path(scratch) / f"group-{s}", s, seconds, MAX_BATCH
                )
            )
            single = in_thread(
                lambda s=senders: acked_per_second(  # type: ignore[misc]
                    Path(scratch) / f"single-{s}", s, seconds, 1
                )
            )
            (group_rate, group_lat, commits), (single_rate, single_lat, _) = group, single
            goal = at_least(10) if senders >= 100 else REPORT
            rows.append(
                Row(
                    "durable acks",
                    f"{senders} senders: group ÷ one commit per result",
                    group_rate,
                    single_rate,
                    "acks/s",
                    goal,
                    f"SQLite synchronous=FULL; each sender awaits its ack; {len(group_lat)} acks "
                    f"in {commits} commits vs {len(single_lat)} acks one commit each, "
                    f"{seconds:g} s each",
                ),
            )
            rows.append(
                Row(
                    "durable acks",
                    f"{senders} senders: p99 ack latency, group ÷ one commit per result",
                    percentile(group_lat, 0.99),
                    percentile(single_lat, 0.99),
                    "ms",
                    REPORT,
                    f"p50 {percentile(group_lat, 0.5):.2f} ms vs "
                    f"{percentile(single_lat, 0.5):.2f} ms",
                ),
            )
    return rows


async def redis_acked_per_second(
    url: str, senders: int, seconds: float, max_batch: int
) -> tuple[float, list[float], int]:
    """The Redis store on `url`: see `measure_acks`."""
    link = RedisLink(url)
    await link.start()
    try:
        store = RedisStore(link, max_batch=max_batch)
        return await measure_acks(store, senders, seconds, f"redis-{max_batch}")
    finally:
        await link.close()


def redis_acks(senders: int, seconds: float) -> list[Row]:
    """Acks/s of the Redis store (AOF, fsync always): pipelined batches ÷ one command each."""
    if redis_binary() is None:
        return [
            not_measured(
                "durable acks", "Redis: pipelined ÷ one at a time", REPORT, "no redis-server"
            )
        ]
    with tempfile.TemporaryDirectory(prefix="offload-acks-redis-") as scratch:
        redis = RedisServer(Path(scratch)).start()
        try:
            group_rate, group_lat, commits = in_thread(
                lambda: redis_acked_per_second(redis.url, senders, seconds, MAX_BATCH)
            )
            single_rate, single_lat, _ = in_thread(
                lambda: redis_acked_per_second(redis.url, senders, seconds, 1)
            )
        finally:
            redis.stop()
    return [
        Row(
            "durable acks",
            f"Redis, {senders} senders: pipelined ÷ one command per result",
            group_rate,
            single_rate,
            "acks/s",
            REPORT,
            f"redis-server --appendonly yes --appendfsync always; {len(group_lat)} acks in "
            f"{commits} pipelines; p99 {percentile(group_lat, 0.99):.1f} ms vs "
            f"{percentile(single_lat, 0.99):.1f} ms",
        )
    ]
