"""Server limits (issue 15): what a connection costs with and without permessage-deflate, and
how `/api/results` pages and socket pings share the event loop.

Each row is measured side by side in one run, against real `python -m server` processes on
loopback ports: memory is the server process's resident set (VmRSS) before and after opening
the sockets; latencies are client-side round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector

from bench.rows import REPORT, Row, at_most, percentile
from bench.socket import in_thread
from support.server import RunningServer, free_port

#: Relaxed so the benchmark's own clients never trip the limits they are not measuring.
BENCH_ARGS = ["--rate", "100000", "--burst", "100000", "--max-connections-per-address", "20000"]


@contextlib.contextmanager
def server(scratch: Path, name: str, *args: str) -> Iterator[RunningServer]:
    running = RunningServer(
        port=free_port(),
        data_dir=scratch / name / "data",
        log_dir=scratch / name / "logs",
        extra_args=[*BENCH_ARGS, *args],
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def rss_kib(pid: int) -> int:
    """The process's resident set size in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextlib.asynccontextmanager
async def sockets(
    url: str, count: int, compress: bool
) -> AsyncIterator[list[ClientWebSocketResponse]]:
    """`count` open sockets that each got `hello` and exchanged one ping/pong."""
    session = ClientSession(connector=TCPConnector(limit=0))
    opened: list[ClientWebSocketResponse] = []
    try:
        for _ in range(count):
            ws = await session.ws_connect(url, compress=15 if compress else 0)
            opened.append(ws)
        for ws in opened:
            # Exchange a frame each, so any compression context is in use, not just agreed.
            await ws.send_json({"type": "ping", "id": "x" * 100})
        for ws in opened:
            while (await ws.receive_json(timeout=60))["type"] != "pong":
                pass
        yield opened
    finally:
        await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
        await session.close()


def memory_per_connection(running: RunningServer, count: int, compress: bool) -> tuple[float, int]:
    """KiB of server memory per open socket, and how many sockets were held."""
    assert running.process is not None
    pid = running.process.pid

    async def measure() -> tuple[float, int]:
        await asyncio.sleep(0.5)
        before = rss_kib(pid)
        async with sockets(running.ws_url, count, compress) as opened:
            await asyncio.sleep(0.5)
            after = rss_kib(pid)
            return (after - before) / len(opened), len(opened)

    return in_thread(measure)


def connection_rows(scratch: Path, count: int) -> list[Row]:
    """Memory per connection with permessage-deflate ÷ without, and connections held."""
    with server(scratch, "plain") as plain:
        plain_kib, plain_held = memory_per_connection(plain, count, compress=False)
    with server(scratch, "deflate", "--compress") as deflate:
        deflate_kib, deflate_held = memory_per_connection(deflate, count, compress=True)
    return [
        Row(
            "connections",
            "memory per connection: permessage-deflate ÷ plain",
            deflate_kib,
            plain_kib,
            "KiB",
            REPORT,
            f"server VmRSS growth over {count} sockets each after one ping/pong; compression "
            "is off by default (--compress turns it on)",
        ),
        Row(
            "connections",
            "sockets held by one process: deflate ÷ plain",
            float(deflate_held),
            float(plain_held),
            "sockets",
            REPORT,
            f"asked for {count} each; default caps 8192 in all, 1024 per address",
        ),
    ]


async def fill_results(url: str, count: int, size: int) -> None:
    async with ClientSession() as session, session.ws_connect(url) as ws:
        for n in range(count):
            await ws.send_json(
                {
                    "type": "result",
                    "id": f"bench-{n}",
                    "task": "bench",
                    "params": {},
                    "result": {"blob": "x" * size},
                    "duration_ms": 1.0,
                }
            )
        acked = 0
        while acked < count:
            if (await ws.receive_json(timeout=60))["type"] == "ack":
                acked += 1


async def page_latencies(origin: str, requests: int) -> list[float]:
    times = []
    async with ClientSession() as session:
        for _ in range(requests):
            started = time.perf_counter()
            async with session.get(f"{origin}/api/results") as response:
                await response.read()
            times.append((time.perf_counter() - started) * 1000)
    return times


async def ping_latencies(ws: ClientWebSocketResponse, until: float) -> list[float]:
    times = []
    while time.monotonic() < until:
        started = time.perf_counter()
        await ws.send_json({"type": "ping", "id": "p"})
        while (await ws.receive_json(timeout=60))["type"] != "pong":
            pass
        times.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.01)
    return times


def loop_rows(scratch: Path, pingers: int, requests: int) -> list[Row]:
    """`/api/results` p99 while sockets ping ÷ idle, and ping p99 while pages poll ÷ idle."""
    with server(scratch, "pages") as running:

        async def measure() -> dict[str, list[float]]:
            await fill_results(running.ws_url, 200, 60_000)
            idle_pages = await page_latencies(running.origin, requests)
            async with sockets(running.ws_url, pingers, compress=False) as opened:
                seconds = max(2.0, requests * percentile(idle_pages, 0.5) / 1000 * 2)
                until = time.monotonic() + seconds
                pinging = [asyncio.create_task(ping_latencies(ws, until)) for ws in opened]
                busy_pages = await page_latencies(running.origin, requests)
                pings_while_polled = [t for ts in await asyncio.gather(*pinging) for t in ts]
                until = time.monotonic() + seconds
                idle_pings = await ping_latencies(opened[0], until)
            return {
                "idle_pages": idle_pages,
                "busy_pages": busy_pages,
                "idle_pings": idle_pings,
                "busy_pings": pings_while_polled,
            }

        found = in_thread(measure)
    return [
        Row(
            "results API",
            f"/api/results p99 while {pingers} sockets ping ÷ idle",
            percentile(found["busy_pages"], 0.99),
            percentile(found["idle_pages"], 0.99),
            "ms",
            REPORT,
            f"{requests} sequential GETs of a ~1 MiB page (200 results of 60 KB stored)",
        ),
        Row(
            "results API",
            "socket ping p99 while a client polls /api/results ÷ one socket idle",
            percentile(found["busy_pings"], 0.99),
            percentile(found["idle_pings"], 0.99),
            "ms",
            at_most(20),
            f"{pingers} sockets pinging every 10 ms; pages are encoded on a worker thread",
        ),
    ]


def server_limits(quick: bool) -> list[Row]:
    """Every row of this module (smaller sizes with --quick)."""
    with tempfile.TemporaryDirectory(prefix="offload-limits-") as folder:
        scratch = Path(folder)
        return [
            *connection_rows(scratch, 200 if quick else 1000),
            *loop_rows(scratch, 100, 20 if quick else 100),
        ]
