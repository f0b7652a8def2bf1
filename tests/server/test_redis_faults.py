"""Redis faults heal by themselves (one server process, a real redis-server): data lost to a
FLUSHALL, a demotion to replica, a full memory. No server restart in any test."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from server.config import Settings
from support.redis import RedisServer
from tests.server.conftest import MakeClient
from tests.server.test_job_engines import Page, page


@pytest.fixture
async def redis_settings(settings: Settings, redis_server: RedisServer) -> Settings:
    return dataclasses.replace(
        settings,
        redis_url=redis_server.url,
        lease_seconds=1.0,
        rate_per_second=10_000,
        rate_burst=10_000,
    )


@pytest.fixture
async def admin(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A client of the test's own, for FLUSHALL, REPLICAOF and CONFIG SET."""
    client: aioredis.Redis = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def work_through(
    owner: Page, volunteer: Page, key: str, samples: int, chunk: int
) -> dict[str, Any]:
    """Start a job, answer every chunk the volunteer is sent, and return the final progress."""
    assert (await owner.start_job(key, samples, chunk))["type"] == "ack"
    chunks = -(-samples // chunk)
    for n in range(chunks):
        given = await volunteer.next("job_chunk")
        assert given["params"]["samples"] == min(chunk, samples - given["chunk"] * chunk)
        assert (await volunteer.answer(given, f"{key}-{n}"))["type"] == "ack"
    while not (progress := await owner.next("job_progress"))["done"]:
        pass
    return progress


async def test_after_redis_loses_its_data_a_new_job_is_not_read_through_the_old_one_s_shape(
    redis_settings: Settings, make_client: MakeClient, admin: aioredis.Redis
) -> None:
    client = await make_client(redis_settings)
    owner, volunteer = await page(client), await page(client)
    await volunteer.send({"type": "jobs_join", "slots": 3})
    first = await work_through(owner, volunteer, "first", 3_000, 1_000)
    assert (first["chunks"], first["samples_done"]) == (3, 3_000)
    await volunteer.send({"type": "jobs_leave"})
    await admin.flushall()
    await volunteer.send({"type": "jobs_join", "slots": 3})
    second = await work_through(owner, volunteer, "second", 500, 100)
    assert second["job_id"] == first["job_id"]  # Redis counts job ids from 1 again
    assert (second["chunks"], second["chunks_done"], second["samples_done"]) == (5, 5, 500)
