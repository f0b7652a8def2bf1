"""Python WebSocket clients for the socket rows: broadcast fan-out, a distributed job's starter,
and the bare echo server's process.

Playwright's sync API owns the main thread's event loop, so every coroutine here runs on a
fresh loop in a thread of its own (`in_thread`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.echo import READY_LINE
from support.server import ROOT, free_port

CONNECT_BATCH = 50  # concurrent handshakes: a storm of 1000 would time out on 2 cores


def in_thread[T](make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine `make()` to completion on a new event loop in a new thread."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as error:  # re-raised in the caller's thread
            box["error"] = error

    thread = threading.Thread(target=target, name="bench-asyncio")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


@contextmanager
def echo_server() -> Iterator[str]:
    """Start `python -m bench.echo` on a free port; yields its ws:// URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.echo", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if READY_LINE not in line:
            raise RuntimeError(f"the echo server did not start (it said {line!r})")
        yield f"ws://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Fanout:
    """One fan-out measurement: `results` broadcasts to `receivers` clients."""

    receivers: int
    results: int
    delivered: int
    seconds: float
    dropped: int

    @property
    def per_second(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


async def fanout(ws_url: str, receivers: int, results: int, wait_seconds: float = 60.0) -> Fanout:
    """Connect `receivers` clients plus a sender; the sender sends `results` results as fast as
    the server takes them, and every receiver counts the `peer_result` broadcasts it gets.

    The clock runs from the first send to the last delivery (or the timeout).
    """
    counts = [0] * receivers
    all_done = asyncio.Event()
    remaining = receivers
    dropped = 0
    last_frame = time.monotonic()

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def receive(index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal remaining, dropped, last_frame
            async for frame in ws:
                last_frame = time.monotonic()
                if frame.type != aiohttp.WSMsgType.TEXT or '"peer_result"' not in frame.data:
                    continue
                counts[index] += 1
                if counts[index] == results:
                    remaining -= 1
                    if remaining == 0:
                        all_done.set()
            if counts[index] < results:
                dropped += 1

        sockets: list[aiohttp.ClientWebSocketResponse] = []
        readers = []
        for start in range(0, receivers, CONNECT_BATCH):
            batch = await asyncio.gather(
                *(
                    session.ws_connect(ws_url, heartbeat=None)
                    for _ in range(min(CONNECT_BATCH, receivers - start))
                )
            )
            for ws in batch:
                readers.append(asyncio.create_task(receive(len(sockets), ws)))
                sockets.append(ws)
        sender = await session.ws_connect(ws_url)
        # Every connect is announced to everyone (`peers`): wait for that storm to pass.
        # A quiet period has no event to wait on, hence the polling.
        while time.monotonic() - last_frame < 0.5:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

        started = time.monotonic()
        for i in range(results):
            await sender.send_str(
                json.dumps(
                    {
                        "type": "result",
                        "id": f"fanout-{receivers}-{i}-{started}",
                        "task": "primes",
                        "params": {"n": i},
                        "result": {"count": 0},
                        "duration_ms": 0.0,
                    }
                )
            )
        with suppress(TimeoutError):
            await asyncio.wait_for(all_done.wait(), wait_seconds)
        seconds = time.monotonic() - started
        await asyncio.gather(sender.close(), *(ws.close() for ws in sockets))
        await asyncio.gather(*readers, return_exceptions=True)
    return Fanout(receivers, results, sum(counts), seconds, dropped)


async def start_job(ws_url: str, samples: int, chunk_samples: int, wait_seconds: float) -> bool:
    """Start a distributed Monte Carlo job and wait for its `done` progress; True if it finished."""
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        await ws.send_str(
            json.dumps(
                {
                    "type": "job_start",
                    "id": f"bench-job-{time.time()}",
                    "samples": samples,
                    "chunk_samples": chunk_samples,
                }
            )
        )
        job_id = None
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            try:
                frame = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            if message["type"] == "error":
                raise RuntimeError(f"the server refused the job: {message['message']}")
            if message["type"] == "job_progress":
                job_id = job_id or message["job_id"]
                if message["job_id"] == job_id and message["done"]:
                    return True
    return False
