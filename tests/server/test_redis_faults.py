"""Redis faults heal by themselves (one server process, a real redis-server): data lost to a
FLUSHALL, a demotion to replica, a full memory. No server restart in any test."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from server.config import Settings
from server.redis.link import PROBE_SECONDS
from support.redis import RedisServer
from tests.server.conftest import MakeClient
from tests.server.test_job_engines import Page, page
from tests.server.test_websocket import result_message
from tests.support import free_port


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


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    """Poll `condition` until it holds (fails after `seconds`: a generous bound, not a wait)."""
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110 (Redis's state: no event to wait on)
            await asyncio.sleep(0.05)


async def errors_of(admin: aioredis.Redis, kind: str) -> int:
    """How many `kind` errors (READONLY, UNBLOCKED, OOM...) Redis has answered so far."""
    stats: dict[str, Any] = await admin.info("errorstats")
    return int(stats.get(f"errorstat_{kind}", {}).get("count", 0))


async def feed_waits(admin: aioredis.Redis) -> bool:
    """The job engine is blocked in XREADGROUP, waiting for chunks."""
    clients: list[dict[str, Any]] = await admin.client_list()
    return any(c.get("cmd") == "xreadgroup" and "b" in c.get("flags", "") for c in clients)


@pytest.fixture
async def waiting(
    redis_settings: Settings, make_client: MakeClient, admin: aioredis.Redis
) -> tuple[Page, Page]:
    """A page to start jobs and a volunteer with room, the engine blocked reading for it."""
    client = await make_client(redis_settings)
    owner, volunteer = await page(client), await page(client)
    await volunteer.send({"type": "jobs_join", "slots": 2})
    await until(lambda: feed_waits(admin))
    return owner, volunteer


async def test_jobs_recover_after_redis_is_flushed_while_a_volunteer_waits(
    waiting: tuple[Page, Page], admin: aioredis.Redis
) -> None:
    await admin.flushall()  # the blocked read is answered UNBLOCKED, the group is gone
    await until(lambda: feed_waits(admin))
    progress = await work_through(*waiting, "after-flush", 400, 100)
    assert progress["chunks_done"] == 4


async def test_jobs_recover_after_redis_was_a_replica_for_a_while(
    waiting: tuple[Page, Page], admin: aioredis.Redis
) -> None:
    before = await errors_of(admin, "READONLY")
    await admin.replicaof("127.0.0.1", free_port())  # a failover, or a misconfiguration
    # The engine has met the replica more than once (it retries, not dies) before it is back.
    await until(lambda: at_least(errors_of(admin, "READONLY"), before + 2))
    await admin.replicaof("NO", "ONE")
    owner = waiting[0]
    # As a page does: a start refused while Redis still counts as read-only is sent again.
    while (reply := await owner.start_job("after-failover", 400, 100))["type"] == "error":
        assert reply["name"] in ("storage_full", "storage_unavailable")
        await asyncio.sleep(0.1)  # polling the server's state, as a page does (retry_after)
    progress = await work_through(*waiting, "after-failover", 400, 100)
    assert progress["chunks_done"] == 4


async def at_least(count: Awaitable[int], floor: int) -> bool:
    return await count >= floor


async def test_a_full_redis_refuses_results_with_one_status_held_until_it_takes_writes(
    redis_settings: Settings, make_client: MakeClient, admin: aioredis.Redis
) -> None:
    client = await make_client(redis_settings)
    student = await page(client)
    await admin.config_set("maxmemory-policy", "noeviction")
    await admin.config_set("maxmemory", 1)  # full: every write that needs memory is refused
    for n in range(10):
        await student.send(result_message(f"full-{n}"))
        assert (await student.reply(f"full-{n}"))["name"] == "storage_full"
    # Probe writes are refused meanwhile, and the status holds: no "ok" between refusals.
    refused = await errors_of(admin, "OOM")
    await until(lambda: at_least(errors_of(admin, "OOM"), refused + 2))
    for n in range(10, 20):
        await student.send(result_message(f"full-{n}"))
        assert (await student.reply(f"full-{n}"))["name"] == "storage_full"
    told = [m for m in student.seen if m["type"] == "server"]
    assert [(m["ok"], m["retry_after"]) for m in told] == [(False, PROBE_SECONDS)]
    assert "full" in told[0]["message"]
    await admin.config_set("maxmemory", 0)
    await student.next("server")  # the "full" status, read above
    assert (await student.next("server"))["ok"] is True
    await student.send(result_message("after"))
    after = await student.reply("after")
    assert after["type"] == "ack", after
