"""The job board's rules hold alike in both engines: the in-memory board and Redis (one process,
through `/ws`, with a real redis-server); each test runs once per engine."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from offload.tasks.montecarlo import count_inside
from server.config import Settings
from server.job_rules import MAX_CHUNKS, MAX_JOB_SAMPLES, MAX_STRIKES, allowance
from server.local_jobs import LocalJobs
from server.redis.jobs import RedisJobs
from server.state import JOBS
from support.redis import RedisServer, redis_binary
from tests.server.conftest import MakeClient, receive_type


@pytest.fixture(params=["memory", "redis"])
async def engine_settings(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[Settings]:
    """The test's settings on one engine, a short lease, no rate limit in the way."""
    quick = dataclasses.replace(
        settings, lease_seconds=1.0, rate_per_second=10_000, rate_burst=10_000
    )
    if request.param == "memory":
        yield quick
        return
    if redis_binary() is None:
        pytest.skip("no redis-server installed (apt-get install redis-server)")
    redis = RedisServer(tmp_path / "redis").start()
    try:
        yield dataclasses.replace(quick, redis_url=redis.url)
    finally:
        redis.stop()


class Page:
    """A plain WebSocket client standing in for a page; keeps what it read past, in order."""

    def __init__(self, ws: ClientWebSocketResponse, client_id: str = "") -> None:
        self.ws = ws
        self.client_id = client_id
        self.seen: list[dict[str, Any]] = []

    async def next(self, kind: str, message_id: str | None = None) -> dict[str, Any]:
        """The first message of type `kind` (and `id`) not yet taken, waiting for it if need be."""
        position = 0
        while True:
            while position < len(self.seen):
                message = self.seen[position]
                if message["type"] == kind and message_id in (None, message.get("id")):
                    return self.seen.pop(position)
                position += 1
            self.seen.append(await self.ws.receive_json(timeout=30))

    async def reply(self, message_id: str) -> dict[str, Any]:
        """The `ack` or `error` for `message_id`."""
        while True:
            for kind in ("ack", "error"):
                for message in self.seen:
                    if message["type"] == kind and message.get("id") == message_id:
                        self.seen.remove(message)
                        return message
            self.seen.append(await self.ws.receive_json(timeout=30))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def answer(self, chunk: dict[str, Any], tag: str) -> dict[str, Any]:
        """Compute the chunk (natively) and answer it; the server's reply."""
        params = chunk["params"]
        inside = count_inside(params["samples"], params["seed"])
        await self.send(
            {
                "type": "chunk_result",
                "id": tag,
                "job_id": chunk["job_id"],
                "chunk": chunk["chunk"],
                "result": {"inside": inside, "samples": params["samples"], "estimate": 0.0},
            }
        )
        return await self.reply(tag)

    async def start_job(self, key: str, samples: int, chunk_samples: int) -> dict[str, Any]:
        """Send a `job_start`; the server's reply."""
        await self.send(
            {
                "type": "job_start",
                "id": key,
                "samples": samples,
                "chunk_samples": chunk_samples,
                "seed": 7,
            }
        )
        return await self.reply(key)


async def page(client: TestClient[Any, Any]) -> Page:
    ws = await client.ws_connect("/ws", heartbeat=None)
    hello = await receive_type(ws, "hello")
    return Page(ws, hello["client_id"])


async def test_a_late_answer_is_refused_and_the_current_holder_s_counts(
    engine_settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(engine_settings)
    owner, slow, quick = await page(client), await page(client), await page(client)
    await slow.send({"type": "jobs_join", "slots": 1})
    assert (await owner.start_job("one-chunk", 1_000, 1_000))["type"] == "ack"
    taken = await slow.next("job_chunk")
    await quick.send({"type": "jobs_join", "slots": 1})
    # The slow page's lease runs out; the chunk goes to the page with room.
    again = await quick.next("job_chunk")
    assert (again["job_id"], again["chunk"]) == (taken["job_id"], taken["chunk"])
    late = await slow.answer(taken, "late")
    assert (late["type"], late.get("name")) == ("error", "not_holder")
    current = await quick.answer(again, "current")
    assert current == {"type": "ack", "id": "current", "duplicate": False}
    while not (progress := await quick.next("job_progress"))["done"]:
        pass
    assert progress["chunks_done"] == 1


@pytest.mark.parametrize(
    ("samples", "chunk_samples"),
    [(100_000, 1), (MAX_CHUNKS + 1, 1), (MAX_JOB_SAMPLES + 1, 10**9)],
)
async def test_a_job_too_big_to_queue_at_once_is_refused_with_its_limit(
    engine_settings: Settings, make_client: MakeClient, samples: int, chunk_samples: int
) -> None:
    client = await make_client(engine_settings)
    owner = await page(client)
    refused = await owner.start_job("huge", samples, chunk_samples)
    assert (refused["type"], refused["name"]) == ("error", "invalid_job")
    assert "limit" in refused["message"] or "at most" in refused["message"]
    assert (await owner.start_job("fits", MAX_CHUNKS, 1))["type"] == "ack"


async def test_a_job_kept_alive_by_a_trickle_of_answers_still_ends(
    engine_settings: Settings, make_client: MakeClient
) -> None:
    settings = dataclasses.replace(engine_settings, lease_seconds=60.0, job_max_seconds=2.0)
    client = await make_client(settings)
    owner, trickle = await page(client), await page(client)
    await trickle.send({"type": "jobs_join", "slots": 1})
    assert (await owner.start_job("kept-alive", 100, 1))["type"] == "ack"
    # An answer now and then keeps the job from `idle_seconds` (600): its age still ends it.
    first = await trickle.next("job_chunk")
    assert (await trickle.answer(first, "trickle"))["type"] == "ack"
    await trickle.next("job_chunk")  # ...and held
    while not (progress := await owner.next("job_progress"))["expired"]:
        pass
    assert (progress["done"], progress["chunks_done"]) == (False, 1)


def engine_of(client: TestClient[Any, Any]) -> LocalJobs | RedisJobs:
    engine = client.app[JOBS]
    assert isinstance(engine, LocalJobs | RedisJobs)
    return engine


def holding(engine: LocalJobs | RedisJobs, client_id: str) -> int:
    """How many chunks the engine counts a page of this process as holding."""
    if isinstance(engine, LocalJobs):
        return len(engine.board.held.get(client_id, ()))
    return len(engine.held.get(client_id, {}))


def strikes(engine: LocalJobs | RedisJobs, address: str) -> int:
    return (engine.board.strikes if isinstance(engine, LocalJobs) else engine.strikes).get(
        address, 0
    )


async def test_a_hoarder_gets_fewer_chunks_and_rejoining_does_not_wipe_its_record(
    engine_settings: Settings, make_client: MakeClient
) -> None:
    client = await make_client(engine_settings)
    engine = engine_of(client)
    owner, hoarder = await page(client), await page(client)
    await hoarder.send({"type": "jobs_join", "slots": 4})
    assert (await owner.start_job("hoarded", 40, 1))["type"] == "ack"
    for _ in range(4):
        await hoarder.next("job_chunk")  # ...and never answered
    async with asyncio.timeout(30):
        while strikes(engine, "127.0.0.1") < MAX_STRIKES:  # noqa: ASYNC110 (the engine's state)
            await asyncio.sleep(0.05)
    await hoarder.ws.close()
    again = await page(client)  # a new connection from the same address
    await again.send({"type": "jobs_join", "slots": 4})
    await again.next("job_chunk")
    assert holding(engine, again.client_id) <= allowance(4, MAX_STRIKES) == 1
