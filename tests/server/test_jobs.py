"""Distributed Monte Carlo pi: chunks handed out once at a time, requeued on leave, counted once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from offload.tasks.montecarlo import MonteCarloResult, count_inside
from server.jobs import MAX_CHUNKS, JobBoard, chunk_seed
from tests.server.conftest import receive_type


def answer(params: Any) -> MonteCarloResult:
    """What a page's worker would send back for a chunk (the real task, run natively)."""
    inside = count_inside(params["samples"], params["seed"])
    return MonteCarloResult(
        inside=inside, samples=params["samples"], estimate=4 * inside / params["samples"]
    )


def test_a_job_is_split_into_chunks_with_the_remainder_last() -> None:
    board = JobBoard()
    board.join("a", slots=16)
    update = board.start("start", samples=10_500, chunk_samples=1_000, seed=7)
    sizes = [a.message.params["samples"] for a in update.assignments]
    assert len(sizes) == 11
    assert sizes[-1] == 500
    assert sum(sizes) == 10_500
    assert update.progress[0].chunks == 11


def test_chunk_seeds_are_distinct_and_reproducible() -> None:
    seeds = [chunk_seed(7, n) for n in range(1000)]
    assert len(set(seeds)) == 1000
    assert seeds == [chunk_seed(7, n) for n in range(1000)]
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_each_page_holds_at_most_its_slots_and_a_chunk_has_one_holder() -> None:
    board = JobBoard()
    board.join("a", slots=1)
    board.join("b", slots=2)
    update = board.start("start", samples=10, chunk_samples=1, seed=0)
    holders = [a.client_id for a in update.assignments]
    assert sorted(holders) == ["a", "b", "b"]
    assert len({a.message.chunk for a in update.assignments}) == 3


def test_a_leaving_page_s_chunk_goes_back_to_the_front_of_the_queue() -> None:
    board = JobBoard()
    board.join("a", slots=1)
    held_by_a = board.start("start", samples=5, chunk_samples=1, seed=0).assignments[0].message
    held_by_b = board.join("b", slots=1).assignments[0].message
    next_for_b = board.complete(held_by_b.job_id, held_by_b.chunk, answer(held_by_b.params))
    assert [a.message.chunk for a in next_for_b.assignments] == [2]
    assert board.leave("a").assignments == []  # b's only slot is busy
    after = board.complete(held_by_b.job_id, 2, answer(next_for_b.assignments[0].message.params))
    assert [(a.client_id, a.message.chunk) for a in after.assignments] == [("b", held_by_a.chunk)]


def test_a_chunk_is_counted_once_however_often_it_is_answered() -> None:
    board = JobBoard()
    board.join("a", slots=1)
    chunk = board.start("start", samples=2_000, chunk_samples=1_000, seed=3).assignments[0].message
    result = answer(chunk.params)
    counted = board.complete(chunk.job_id, chunk.chunk, result)
    assert counted.progress[0].inside == result["inside"]
    again = board.complete(chunk.job_id, chunk.chunk, result)
    assert again.duplicate
    assert again.progress == []
    assert board.jobs[chunk.job_id].inside == result["inside"]


@pytest.mark.parametrize(
    ("job_id", "chunk", "inside", "samples"),
    [("job-9", 0, 1, 1000), ("job-1", 5, 1, 1000), ("job-1", 0, 1, 999), ("job-1", 0, 1001, 1000)],
)
def test_answers_that_do_not_fit_the_job_are_refused(
    job_id: str, chunk: int, inside: int, samples: int
) -> None:
    board = JobBoard()
    board.start("start", samples=2_000, chunk_samples=1_000, seed=0)
    with pytest.raises(ValueError, match=r"job|chunk|samples"):
        board.complete(job_id, chunk, MonteCarloResult(inside=inside, samples=samples, estimate=0))


def test_a_job_with_too_many_chunks_is_refused() -> None:
    with pytest.raises(ValueError, match="bigger chunks"):
        JobBoard().start("start", samples=MAX_CHUNKS + 1, chunk_samples=1, seed=0)


async def compute(ws: ClientWebSocketResponse, chunks: int) -> list[int]:
    """Be a volunteer page for `chunks` chunks: compute each natively and send it back."""
    done = []
    for _ in range(chunks):
        chunk = await receive_type(ws, "job_chunk")
        params = chunk["params"]
        inside = count_inside(params["samples"], params["seed"])
        await ws.send_json(
            {
                "type": "chunk_result",
                "id": f"{chunk['job_id']}/{chunk['chunk']}",
                "job_id": chunk["job_id"],
                "chunk": chunk["chunk"],
                "result": {"inside": inside, "samples": params["samples"], "estimate": 0.0},
            }
        )
        done.append(chunk["chunk"])
    return done


async def volunteer(ws: ClientWebSocketResponse) -> None:
    """A page that keeps computing whatever chunks it is sent (until cancelled)."""
    while True:
        await compute(ws, 1)


async def test_a_job_completes_with_the_right_total_when_a_page_leaves_half_way(
    client: TestClient[Any, Any],
) -> None:
    samples, chunk_samples, seed = 40_000, 1_000, 11
    expected = sum(count_inside(chunk_samples, chunk_seed(seed, n)) for n in range(40))
    async with client.ws_connect("/ws") as starter, client.ws_connect("/ws") as stayer:
        leaver = await client.ws_connect("/ws")
        for ws in (leaver, stayer):
            await receive_type(ws, "hello")
            await ws.send_json({"type": "jobs_join"})
        staying = asyncio.create_task(volunteer(stayer))
        await starter.send_json(
            {
                "type": "job_start",
                "id": "pi",
                "samples": samples,
                "chunk_samples": chunk_samples,
                "seed": seed,
            }
        )
        assert (await receive_type(starter, "ack"))["id"] == "pi"
        # The leaver answers a few chunks, then disconnects while holding one.
        await compute(leaver, 5)
        await receive_type(leaver, "job_chunk")
        await leaver.close()
        progress = await receive_type(starter, "job_progress")
        while not progress["done"]:
            progress = await receive_type(starter, "job_progress")
        staying.cancel()
    assert progress["chunks_done"] == progress["chunks"] == 40
    assert progress["samples_done"] == samples
    assert progress["inside"] == expected
    assert progress["estimate"] == 4 * expected / samples


def test_a_resent_job_start_does_not_start_a_second_job() -> None:
    board = JobBoard()
    first = board.start("start-1", samples=10, chunk_samples=5, seed=0)
    again = board.start("start-1", samples=10, chunk_samples=5, seed=0)
    assert again.duplicate
    assert again.progress[0].job_id == first.progress[0].job_id
    assert len(board.jobs) == 1
