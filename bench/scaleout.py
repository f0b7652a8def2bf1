"""Scale-out rows (issue 12): two server processes on one Redis against one process.

- cross-process broadcast latency: a result sent on process A, timed to its `peer_result` on a
  page of process B and, for the same results, on a page of A (the baseline): p50 and p99;
- fan-out: broadcasts delivered per second to receivers spread over two processes ÷ all on one.

Starts its own redis-server (AOF, fsync always) and server processes; nothing is left running.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import aiohttp

from bench.rows import REPORT, Row, at_most, not_measured, percentile
from bench.socket import CONNECT_BATCH, in_thread
from support.redis import RedisServer, redis_binary
from support.server import RunningServer, free_port

SERVER_ARGS = ["--rate", "1000000", "--burst", "1000000"]


@contextmanager
def two_processes() -> Iterator[tuple[RunningServer, RunningServer]]:
    """A redis-server and two `python -m server --redis` processes, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="offload-scaleout-") as scratch:
        folder = Path(scratch)
        redis = RedisServer(folder / "redis").start()
        servers: list[RunningServer] = []
        try:
            for name in ("a", "b"):
                servers.append(
                    RunningServer(
                        port=free_port(),
                        data_dir=folder / name / "data",
                        log_dir=folder / name / "logs",
                        extra_args=["--redis", redis.url, *SERVER_ARGS],
                    ).start()
                )
            yield servers[0], servers[1]
        finally:
            for server in servers:
                server.stop()
            redis.stop()


def result_frame(message_id: str) -> str:
    return json.dumps(
        {
            "type": "result",
            "id": message_id,
            "task": "primes",
            "params": {"n": 1},
            "result": {"count": 0},
            "duration_ms": 0.0,
        }
    )


async def next_peer_result(ws: aiohttp.ClientWebSocketResponse) -> float:
    """Wait for the next `peer_result`; when it arrived (perf_counter)."""
    while True:
        frame = await ws.receive(timeout=30)
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"a receiver's socket ended ({frame.type})")
        if '"peer_result"' in frame.data:
            return time.perf_counter()


async def latencies(a: str, b: str, count: int) -> tuple[list[float], list[float]]:
    """Send `count` results on A one at a time; ms until a page on A and a page on B get each."""
    same: list[float] = []
    cross: list[float] = []
    async with aiohttp.ClientSession() as session:
        sender = await session.ws_connect(a, heartbeat=None)
        on_a = await session.ws_connect(a, heartbeat=None)
        on_b = await session.ws_connect(b, heartbeat=None)
        await asyncio.sleep(1.0)  # presence announcements settle
        for i in range(count + 10):
            sent = time.perf_counter()
            await sender.send_str(result_frame(f"latency-{i}-{time.time()}"))
            got_a, got_b = await asyncio.gather(next_peer_result(on_a), next_peer_result(on_b))
            if i >= 10:  # the first few warm up connections and the script cache
                same.append((got_a - sent) * 1000)
                cross.append((got_b - sent) * 1000)
        await asyncio.gather(sender.close(), on_a.close(), on_b.close())
    return same, cross


async def fanout(sender_url: str, receiver_urls: list[str], results: int) -> float:
    """Broadcasts delivered per second to receivers on `receiver_urls` (one each)."""
    remaining = len(receiver_urls)
    done = asyncio.Event()
    counts = [0] * len(receiver_urls)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        for start in range(0, len(receiver_urls), CONNECT_BATCH):
            sockets += await asyncio.gather(
                *(
                    session.ws_connect(url, heartbeat=None)
                    for url in receiver_urls[start : start + CONNECT_BATCH]
                )
            )

        async def receive(index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal remaining
            async for frame in ws:
                if frame.type == aiohttp.WSMsgType.TEXT and '"peer_result"' in frame.data:
                    counts[index] += 1
                    if counts[index] == results:
                        remaining -= 1
                        if not remaining:
                            done.set()

        readers = [asyncio.create_task(receive(i, ws)) for i, ws in enumerate(sockets)]
        sender = await session.ws_connect(sender_url, heartbeat=None)
        await asyncio.sleep(2.0)  # presence announcements settle
        started = time.monotonic()
        for i in range(results):
            await sender.send_str(result_frame(f"fanout-{i}-{started}"))
        with suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 60)
        seconds = time.monotonic() - started
        await asyncio.gather(sender.close(), *(ws.close() for ws in sockets))
        await asyncio.gather(*readers, return_exceptions=True)
    return sum(counts) / seconds


def scaleout(latency_count: int, receivers: int, results: int) -> list[Row]:
    """The cross-process latency rows and the fan-out row."""
    if redis_binary() is None:
        reason = "no redis-server installed (apt-get install redis-server)"
        return [
            not_measured("scale-out", "cross-process broadcast p50", at_most(2), reason),
            not_measured("scale-out", "fan-out, two processes ÷ one", REPORT, reason),
        ]
    with two_processes() as (a, b):
        same, cross = in_thread(lambda: latencies(a.ws_url, b.ws_url, latency_count))
        one = in_thread(lambda: fanout(a.ws_url, [a.ws_url] * receivers, results))
        spread = [(a if i % 2 else b).ws_url for i in range(receivers)]
        two = in_thread(lambda: fanout(a.ws_url, spread, results))
    note = (
        f"{latency_count} results sent one at a time on process A; time to `peer_result` on a page "
        "of B (figure) and, for the same results, on a page of A (baseline); Redis pub/sub"
    )
    return [
        Row(
            "scale-out",
            "cross-process broadcast p50 ÷ same process",
            percentile(cross, 0.5),
            percentile(same, 0.5),
            "ms",
            at_most(2),
            note,
        ),
        Row(
            "scale-out",
            "cross-process broadcast p99 ÷ same process",
            percentile(cross, 0.99),
            percentile(same, 0.99),
            "ms",
            at_most(2),
            note,
        ),
        Row(
            "scale-out",
            f"fan-out to {receivers}: two processes ÷ one",
            two,
            one,
            "msg/s",
            REPORT,
            f"one sender on A sends {results} results; {receivers} receivers all on A "
            "(baseline) or half on A and half on B (figure); both processes, Redis and the "
            "clients share this machine's cores",
        ),
    ]
