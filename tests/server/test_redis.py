"""Several server processes on one real Redis: broadcasts, presence and results span them, and
Redis going away (kill -9) loses no acked result and needs no server restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector

from support.redis import RedisServer
from tests.server.conftest import receive_type, reply_to
from tests.server.test_websocket import result_message
from tests.support import RunningServer, free_port

# The tests send faster than a person clicks: the rate limiter is not what they are about.
UNLIMITED = ["--rate", "1000000", "--burst", "1000000"]


def process_on(redis: RedisServer, tmp_path: Path, name: str) -> RunningServer:
    return RunningServer(
        port=free_port(),
        data_dir=tmp_path / name / "data",
        log_dir=tmp_path / name / "logs",
        extra_args=["--redis", redis.url, *UNLIMITED],
    )


@pytest.fixture
def pair(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[RunningServer, ...]]:
    """Two `python -m server --redis URL` processes on different ports, one Redis."""
    servers = [process_on(redis_server, tmp_path, name).start() for name in ("a", "b")]
    yield tuple(servers)
    for server in servers:
        server.stop()


@asynccontextmanager
async def page_on(
    session: ClientSession, server: RunningServer
) -> AsyncIterator[ClientWebSocketResponse]:
    """A plain WebSocket client standing in for a page, past its `hello`."""
    async with session.ws_connect(server.ws_url, heartbeat=None) as ws:
        await receive_type(ws, "hello")
        yield ws


async def answer_to(ws: ClientWebSocketResponse, message_id: str) -> dict[str, Any]:
    """Send a result; the server's `ack` or `error` for it."""
    return await reply_to(ws, result_message(message_id))


async def stored_ids(session: ClientSession, server: RunningServer) -> list[str]:
    async with session.get(f"{server.origin}/api/results") as response:
        assert response.status == 200
        return [r["id"] for r in await response.json()]


async def peers_until(ws: ClientWebSocketResponse, count: int, seconds: float = 20) -> None:
    """Read until a `peers` message says `count` (fails after `seconds`)."""
    async with asyncio.timeout(seconds):
        while (await receive_type(ws, "peers"))["connections"] != count:
            pass


async def test_a_result_acked_on_one_process_reaches_pages_on_the_other_and_both_list_it(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    async with ClientSession() as session, page_on(session, a) as on_a, page_on(session, b) as on_b:
        assert (await answer_to(on_a, "crosses-1"))["type"] == "ack"
        shown = await receive_type(on_b, "peer_result")
        assert shown["result"]["id"] == "crosses-1"
        assert await stored_ids(session, a) == await stored_ids(session, b) == ["crosses-1"]
        assert (await answer_to(on_b, "crosses-1")) == {
            "type": "ack",
            "id": "crosses-1",
            "duplicate": True,
        }


async def test_peer_counts_are_global_and_a_killed_process_s_pages_drop_out_within_seconds(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    async with ClientSession() as session, page_on(session, b) as on_b:
        async with page_on(session, a), page_on(session, a):
            await peers_until(on_b, 3)
            a.kill()
            killed = time.monotonic()
            await peers_until(on_b, 1)
        assert time.monotonic() - killed < 10


async def test_redis_killed_and_restarted_loses_no_acked_result_and_servers_recover_alone(
    pair: tuple[RunningServer, RunningServer], redis_server: RedisServer
) -> None:
    a, b = pair
    acked = [f"before-{i}" for i in range(30)]
    async with ClientSession() as session, page_on(session, a) as on_a:
        for rid in acked:
            await on_a.send_json(result_message(rid))
        answers = [await receive_type(on_a, "ack") for _ in acked]
        assert {m["id"] for m in answers} == set(acked)

        redis_server.kill()
        status = await receive_type(on_a, "server")
        assert status["ok"] is False
        refused = await answer_to(on_a, "during")
        assert refused["type"] == "error"
        assert refused["name"] == "storage_unavailable"
        assert not on_a.closed

        await asyncio.to_thread(redis_server.start)
        assert (await receive_type(on_a, "server"))["ok"] is True
        assert (await answer_to(on_a, "during"))["type"] == "ack"
        for server in (a, b):
            kept = await stored_ids(session, server)
            assert set(acked) | {"during"} <= set(kept)


async def test_a_broadcast_reaches_300_connections_spread_over_two_processes(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    async with ClientSession(connector=TCPConnector(limit=0)) as session:
        pages: list[ClientWebSocketResponse] = []
        for start in range(0, 300, 50):
            pages += await asyncio.gather(
                *(
                    session.ws_connect((a if (start + i) % 2 else b).ws_url, heartbeat=None)
                    for i in range(50)
                )
            )
        try:
            sender = pages[0]
            await peers_until(sender, 300, seconds=60)
            assert (await answer_to(sender, "to-everyone"))["type"] == "ack"

            async def hears(ws: ClientWebSocketResponse) -> str:
                return str((await receive_type(ws, "peer_result"))["result"]["id"])

            heard = await asyncio.gather(*(hears(ws) for ws in pages[1:]))
            assert heard == ["to-everyone"] * 299
        finally:
            await asyncio.gather(*(ws.close() for ws in pages))
