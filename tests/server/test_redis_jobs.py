"""A distributed job across server processes on one real Redis: started on one, worked on by pages
on all, every chunk counted once even when a process is killed while its pages hold chunks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType

from offload.tasks.montecarlo import count_inside
from server.job_rules import chunk_seed
from support.redis import RedisServer
from tests.server.conftest import receive_type
from tests.server.test_redis import UNLIMITED, page_on
from tests.support import RunningServer, free_port

CHUNKS = 24
CHUNK_SAMPLES = 2_000
SEED = 1234
LEASE = "2"  # seconds: how soon a dead process's chunks are taken over


def native_total() -> int:
    return sum(count_inside(CHUNK_SAMPLES, chunk_seed(SEED, i)) for i in range(CHUNKS))


@pytest.fixture
def lease() -> str:
    """The processes' `--lease` (a test may parametrize it)."""
    return LEASE


@pytest.fixture
def pair(
    redis_server: RedisServer, tmp_path: Path, lease: str
) -> Iterator[tuple[RunningServer, ...]]:
    servers = [
        RunningServer(
            port=free_port(),
            data_dir=tmp_path / name / "data",
            log_dir=tmp_path / name / "logs",
            extra_args=["--redis", redis_server.url, "--lease", lease, *UNLIMITED],
        ).start()
        for name in ("a", "b")
    ]
    yield tuple(servers)
    for server in servers:
        server.stop()


async def volunteer(ws: ClientWebSocketResponse, worked: list[int], stall: bool = False) -> None:
    """Join, then compute every chunk sent (natively) and answer it; `stall` holds them forever."""
    await ws.send_json({"type": "jobs_join", "slots": 2})
    async for frame in ws:
        if frame.type != WSMsgType.TEXT:
            break
        message = frame.json()
        if message["type"] != "job_chunk":
            continue
        worked.append(message["chunk"])
        if stall:
            continue
        params = message["params"]
        inside = count_inside(params["samples"], params["seed"])
        await ws.send_json(
            {
                "type": "chunk_result",
                "id": f"{message['job_id']}-{message['chunk']}-{len(worked)}",
                "job_id": message["job_id"],
                "chunk": message["chunk"],
                "result": {"inside": inside, "samples": params["samples"], "estimate": 0.0},
            }
        )


async def start_and_wait(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """Start the test's job; the `job_progress` that says it is done."""
    await ws.send_json(
        {
            "type": "job_start",
            "id": "the-job",
            "samples": CHUNKS * CHUNK_SAMPLES,
            "chunk_samples": CHUNK_SAMPLES,
            "seed": SEED,
        }
    )
    async with asyncio.timeout(90):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if message["type"] == "error":
                raise AssertionError(message)
            if message["type"] == "job_progress" and message["done"]:
                return message


async def test_a_job_started_on_one_process_is_finished_by_pages_on_both_with_the_native_total(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    on_a: list[int] = []
    on_b: list[int] = []
    async with (
        ClientSession() as session,
        page_on(session, a) as starter,
        page_on(session, a) as worker_a,
        page_on(session, b) as worker_b,
    ):
        workers = [
            asyncio.create_task(volunteer(worker_a, on_a)),
            asyncio.create_task(volunteer(worker_b, on_b)),
        ]
        await asyncio.sleep(0.5)  # both have joined before the chunks exist
        done = await start_and_wait(starter)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    assert done["inside"] == native_total()
    assert done["samples_done"] == CHUNKS * CHUNK_SAMPLES
    assert done["chunks_done"] == CHUNKS
    assert on_a, "a page on A should have worked on the job"
    assert on_b, "a page on B should have worked on the job"
    assert sorted(on_a + on_b) == list(range(CHUNKS)), "each chunk was handed out once"


async def kill_a_holder_then_finish_on_b(a: RunningServer, b: RunningServer) -> None:
    """A page on A holds chunks unanswered; A is killed; a page on B finishes the job, with the
    native total and every chunk counted once."""
    held_on_a: list[int] = []
    on_b: list[int] = []
    async with ClientSession() as session, page_on(session, a) as hoarder:
        hoarding = asyncio.create_task(volunteer(hoarder, held_on_a, stall=True))
        async with page_on(session, b) as starter:
            await starter.send_json(
                {
                    "type": "job_start",
                    "id": "kill-job",
                    "samples": CHUNKS * CHUNK_SAMPLES,
                    "chunk_samples": CHUNK_SAMPLES,
                    "seed": SEED,
                }
            )
            async with asyncio.timeout(30):
                while len(held_on_a) < 2:  # noqa: ASYNC110  (a list the volunteer fills)
                    await asyncio.sleep(0.05)
            a.kill()  # with two chunks held by its page, unanswered, no goodbye
            hoarding.cancel()
            await asyncio.gather(hoarding, return_exceptions=True)
            async with page_on(session, b) as worker_b:
                working = asyncio.create_task(volunteer(worker_b, on_b))
                async with asyncio.timeout(90):
                    while True:
                        message = await starter.receive_json()
                        if message["type"] == "job_progress" and message["done"]:
                            break
                working.cancel()
                await asyncio.gather(working, return_exceptions=True)
    assert set(held_on_a) <= set(on_b), "the dead process's chunks were handed out again"
    assert message["inside"] == native_total()
    assert message["samples_done"] == CHUNKS * CHUNK_SAMPLES
    assert message["chunks_done"] == CHUNKS


async def test_a_killed_process_s_chunks_are_taken_over_and_the_total_is_still_exact(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    await kill_a_holder_then_finish_on_b(*pair)


@pytest.mark.parametrize("lease", ["300"])
async def test_a_dead_process_s_chunks_come_back_when_its_presence_lapses_not_its_lease(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    # The job must finish within the wait's bound (90 s), long before a 300 s lease runs out:
    # only the dead process's lapsed presence can give its chunks back that soon.
    await kill_a_holder_then_finish_on_b(*pair)


async def test_while_redis_is_away_a_job_start_is_refused_as_retryable_and_taken_after(
    pair: tuple[RunningServer, RunningServer], redis_server: RedisServer
) -> None:
    a, _ = pair
    start = {
        "type": "job_start",
        "id": "later-job",
        "samples": CHUNKS * CHUNK_SAMPLES,
        "chunk_samples": CHUNK_SAMPLES,
        "seed": SEED,
    }
    async with ClientSession() as session, page_on(session, a) as page:
        redis_server.kill()
        await receive_type(page, "server")
        await page.send_json(start)
        refused = await receive_type(page, "error")
        assert (refused["id"], refused["name"]) == ("later-job", "storage_unavailable")
        await asyncio.to_thread(redis_server.start)
        assert (await receive_type(page, "server"))["ok"] is True
        await page.send_json(start)
        assert (await receive_type(page, "ack"))["id"] == "later-job"
