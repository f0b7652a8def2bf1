"""Distributed Monte Carlo pi: chunks handed out once at a time, requeued on leave, counted once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from offload.tasks.montecarlo import count_inside
from server.job_rules import (
    MAX_ACTIVE_JOBS,
    MAX_CHUNKS,
    MAX_STRIKES,
    JobRefused,
    JobRules,
    allowance,
    chunk_seed,
)
from server.jobs import JobBoard
from server.protocol import MonteCarloResult
from tests.server.conftest import receive_type


def answer(params: Any) -> MonteCarloResult:
    """What a page's worker would send back for a chunk (the real task, run natively)."""
    inside = count_inside(params.samples, params.seed)
    return MonteCarloResult(
        inside=inside, samples=params.samples, estimate=4 * inside / params.samples
    )


def test_a_job_is_split_into_chunks_with_the_remainder_last() -> None:
    board = JobBoard()
    board.join("a", slots=16)
    update = board.start("start", samples=10_500, chunk_samples=1_000, seed=7)
    sizes = [a.message.params.samples for a in update.assignments]
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
    next_for_b = board.complete("b", held_by_b.job_id, held_by_b.chunk, answer(held_by_b.params))
    assert [a.message.chunk for a in next_for_b.assignments] == [2]
    assert board.leave("a").assignments == []  # b's only slot is busy
    after = board.complete(
        "b", held_by_b.job_id, 2, answer(next_for_b.assignments[0].message.params)
    )
    assert [(a.client_id, a.message.chunk) for a in after.assignments] == [("b", held_by_a.chunk)]


def test_a_chunk_is_counted_once_however_often_it_is_answered() -> None:
    board = JobBoard()
    board.join("a", slots=1)
    chunk = board.start("start", samples=2_000, chunk_samples=1_000, seed=3).assignments[0].message
    result = answer(chunk.params)
    counted = board.complete("a", chunk.job_id, chunk.chunk, result)
    assert counted.progress[0].inside == result.inside
    again = board.complete("a", chunk.job_id, chunk.chunk, result)
    assert again.duplicate
    assert again.progress == []
    assert board.jobs[chunk.job_id].inside == result.inside


@pytest.mark.parametrize(
    ("job_id", "chunk", "inside", "samples"),
    [("job-9", 0, 1, 1000), ("job-1", 5, 1, 1000), ("job-1", 0, 1, 999), ("job-1", 0, 1001, 1000)],
)
def test_answers_that_do_not_fit_the_job_are_refused(
    job_id: str, chunk: int, inside: int, samples: int
) -> None:
    board = JobBoard()
    board.join("a", slots=2)
    board.start("start", samples=2_000, chunk_samples=1_000, seed=0)
    with pytest.raises(JobRefused, match=r"job|chunk|samples") as refused:
        board.complete(
            "a", job_id, chunk, MonteCarloResult(inside=inside, samples=samples, estimate=0)
        )
    assert refused.value.name == "invalid_chunk"


def test_a_job_with_too_many_chunks_is_refused() -> None:
    with pytest.raises(ValueError, match="bigger chunks"):
        JobBoard().start("start", samples=MAX_CHUNKS + 1, chunk_samples=1, seed=0)


async def compute(ws: ClientWebSocketResponse, chunks: int) -> list[int]:
    """Be a volunteer page for `chunks` chunks: compute each natively and send it back."""
    done = []
    for _ in range(chunks):
        chunk = await receive_type(ws, "job_chunk")
        await send_answer(ws, chunk)
        done.append(chunk["chunk"])
    return done


async def send_answer(ws: ClientWebSocketResponse, chunk: dict[str, Any]) -> None:
    """Compute one `job_chunk` natively and send its `chunk_result`."""
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


# ---- only the holder answers; leases, limits and expiry (issue 15, items 4 and 5) -----------


def forged(samples: int) -> MonteCarloResult:
    """An answer claiming every point fell inside: plausible on its face, and false."""
    return MonteCarloResult(inside=samples, samples=samples, estimate=4.0)


def test_only_the_page_holding_a_chunk_may_answer_it() -> None:
    board = JobBoard()
    board.join("honest", slots=1)
    chunk = board.start("start", samples=2_000, chunk_samples=1_000, seed=1).assignments[0].message
    with pytest.raises(JobRefused) as refused:
        board.complete("forger", chunk.job_id, chunk.chunk, forged(1_000))
    assert refused.value.name == "not_holder"
    honest = answer(chunk.params)
    board.complete("honest", chunk.job_id, chunk.chunk, honest)
    assert board.jobs[chunk.job_id].inside == honest.inside


def test_a_negative_inside_is_implausible() -> None:
    board = JobBoard()
    board.join("a", slots=1)
    chunk = board.start("start", samples=1_000, chunk_samples=1_000, seed=1).assignments[0].message
    lying = MonteCarloResult(inside=-1, samples=1_000, estimate=0.0)
    with pytest.raises(JobRefused, match="-1 inside"):
        board.complete("a", chunk.job_id, chunk.chunk, lying)


def test_a_chunk_held_past_its_lease_goes_to_another_page() -> None:
    board = JobBoard(JobRules(lease_seconds=10))
    board.join("slow", slots=1)
    chunk = board.start("s", samples=1_000, chunk_samples=1_000, seed=0, now=0).assignments[0]
    board.join("quick", slots=1, now=1)
    assert board.expire(now=9).assignments == []
    again = board.expire(now=10).assignments
    assert [(a.client_id, a.message.chunk) for a in again] == [("quick", chunk.message.chunk)]
    with pytest.raises(JobRefused) as late:
        board.complete("slow", chunk.message.job_id, 0, answer(chunk.message.params), now=11)
    assert late.value.name == "not_holder"
    board.complete("quick", chunk.message.job_id, 0, answer(chunk.message.params), now=11)
    assert board.jobs[chunk.message.job_id].done


def test_hoarding_pages_lose_their_chunks_when_the_leases_run_out() -> None:
    board = JobBoard(JobRules(lease_seconds=60))
    for hoarder in ("h1", "h2", "h3"):
        board.join(hoarder, slots=16)
    board.start("s", samples=40, chunk_samples=1, seed=0, now=0)
    assert sum(len(held) for held in board.held.values()) == 40
    board.join("honest", slots=1, now=30)
    update = board.expire(now=60)
    assert sum(len(held) for held in board.held.values()) == 40  # handed out again at once
    assert any(a.client_id == "honest" for a in update.assignments)


def test_one_address_may_have_only_so_many_unfinished_jobs() -> None:
    board = JobBoard(JobRules(per_owner=2))
    board.start("1", samples=10, chunk_samples=1, seed=0, owner="10.0.0.1")
    board.start("2", samples=10, chunk_samples=1, seed=0, owner="10.0.0.1")
    with pytest.raises(JobRefused, match="already has 2 unfinished") as refused:
        board.start("3", samples=10, chunk_samples=1, seed=0, owner="10.0.0.1")
    assert refused.value.name == "job_limit"
    board.start("4", samples=10, chunk_samples=1, seed=0, owner="10.0.0.2")


def test_idle_jobs_expire_so_starts_cannot_lock_the_board_for_good() -> None:
    board = JobBoard(JobRules(idle_seconds=300, per_owner=1))
    for n in range(MAX_ACTIVE_JOBS):
        board.start(f"lock-{n}", samples=10, chunk_samples=1, seed=0, owner=f"a{n}", now=0)
    with pytest.raises(JobRefused, match="already running"):
        board.start("honest", samples=10, chunk_samples=1, seed=0, owner="b", now=1)
    update = board.expire(now=300)
    assert len(update.progress) == MAX_ACTIVE_JOBS
    assert all(p.expired and not p.done for p in update.progress)
    board.start("honest", samples=10, chunk_samples=1, seed=0, owner="b", now=301)


def test_a_job_with_answers_coming_in_does_not_expire() -> None:
    board = JobBoard(JobRules(idle_seconds=100))
    board.join("a", slots=1)
    chunk = board.start("s", samples=3, chunk_samples=1, seed=0, now=0).assignments[0].message
    board.complete("a", chunk.job_id, chunk.chunk, answer(chunk.params), now=90)
    assert board.expire(now=150).progress == []
    assert not board.jobs[chunk.job_id].expired


def test_finished_and_expired_jobs_are_forgotten_later() -> None:
    board = JobBoard(JobRules(idle_seconds=50, keep_seconds=100))
    board.join("a", slots=1)
    chunk = board.start("done", samples=1, chunk_samples=1, seed=0, now=0).assignments[0].message
    board.complete("a", chunk.job_id, chunk.chunk, answer(chunk.params), now=1)
    board.start("idle", samples=5, chunk_samples=1, seed=0, owner="other", now=0)
    board.expire(now=50)
    # A resend of the finished job's start is still recognised while it is remembered...
    assert board.start("done", samples=1, chunk_samples=1, seed=0, now=60).duplicate
    board.expire(now=150)
    assert board.jobs == {}
    assert board.started == {}


def test_with_two_replicas_a_chunk_counts_when_two_pages_agree() -> None:
    board = JobBoard(JobRules(replicas=2))
    board.join("a", slots=1)
    board.join("b", slots=1)
    update = board.start("s", samples=1_000, chunk_samples=1_000, seed=5)
    assert sorted(a.client_id for a in update.assignments) == ["a", "b"]
    chunk = update.assignments[0].message
    first = board.complete("a", chunk.job_id, 0, answer(chunk.params))
    assert first.progress == []  # one answer is not enough
    second = board.complete("b", chunk.job_id, 0, answer(chunk.params))
    assert second.progress[0].done
    assert second.progress[0].inside == answer(chunk.params).inside


def test_with_two_replicas_a_forged_answer_is_caught_and_the_chunk_recomputed() -> None:
    board = JobBoard(JobRules(replicas=2))
    board.join("forger", slots=1)
    board.join("honest", slots=1)
    chunk = board.start("s", samples=1_000, chunk_samples=1_000, seed=5).assignments[0].message
    board.complete("forger", chunk.job_id, 0, forged(1_000))
    disagreed = board.complete("honest", chunk.job_id, 0, answer(chunk.params))
    assert disagreed.progress == []
    assert board.jobs[chunk.job_id].disagreements == 1
    assert board.jobs[chunk.job_id].inside == 0
    # Both copies are handed out again, one to each page.
    assert sorted(a.client_id for a in disagreed.assignments) == ["forger", "honest"]


def test_a_page_never_gets_both_copies_of_one_chunk() -> None:
    board = JobBoard(JobRules(replicas=2))
    board.join("alone", slots=4)
    update = board.start("s", samples=2, chunk_samples=1, seed=0)
    assert sorted(a.message.chunk for a in update.assignments) == [0, 1]


def test_a_slow_page_s_late_answer_counts_while_nobody_else_has_taken_the_chunk() -> None:
    board = JobBoard(JobRules(lease_seconds=10))
    board.join("slow", slots=1)
    chunk = board.start("s", samples=1_000, chunk_samples=1_000, seed=0, now=0).assignments[0]
    assert board.expire(now=10).assignments == []  # not handed back to the page that lapsed
    late = board.complete("slow", chunk.message.job_id, 0, answer(chunk.message.params), now=12)
    assert late.progress[0].done


async def test_a_page_that_never_volunteered_cannot_forge_the_shared_estimate(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as honest, client.ws_connect("/ws") as forger:
        await receive_type(honest, "hello")
        await receive_type(forger, "hello")
        await honest.send_json({"type": "jobs_join"})
        await forger.send_json(
            {"type": "job_start", "id": "pi", "samples": 2_000, "chunk_samples": 1_000}
        )
        held = await receive_type(honest, "job_chunk")
        for chunk in (0, 1):
            await forger.send_json(
                {
                    "type": "chunk_result",
                    "id": f"forged-{chunk}",
                    "job_id": held["job_id"],
                    "chunk": chunk,
                    "result": {"inside": 1_000, "samples": 1_000, "estimate": 4.0},
                }
            )
            refused = await receive_type(forger, "error")
            assert (refused["id"], refused["name"]) == (f"forged-{chunk}", "not_holder")
        await send_answer(honest, held)
        await compute(honest, 1)
        progress = await receive_type(forger, "job_progress")
        while not progress["done"]:
            progress = await receive_type(forger, "job_progress")
    expected = sum(count_inside(1_000, chunk_seed(0, n)) for n in range(2))
    assert progress["inside"] == expected


def test_a_hoarding_address_gets_fewer_chunks_for_shorter_leases_even_after_rejoining() -> None:
    board = JobBoard(JobRules(lease_seconds=60))
    board.join("hoarder", slots=8, address="10.0.0.66")
    board.start("s", samples=40, chunk_samples=1, seed=0, now=0)
    assert len(board.held["hoarder"]) == 8
    board.expire(now=60)  # eight leases ran out: the address has strikes
    board.leave("hoarder", now=61)
    board.join("hoarder-again", slots=8, now=62, address="10.0.0.66")
    assert len(board.held["hoarder-again"]) == allowance(8, MAX_STRIKES) == 1
    (job_id, chunk), *_ = board.held["hoarder-again"]
    assert board.jobs[job_id].holders[chunk]["hoarder-again"] == 62 + 60 / 8
    # An honest page elsewhere is not touched by that address's record.
    board.join("honest", slots=8, now=62, address="10.0.0.7")
    assert len(board.held["honest"]) == 8


def test_answering_earns_an_address_its_slots_back() -> None:
    board = JobBoard(JobRules(lease_seconds=60))
    board.join("late", slots=4, address="10.0.0.5")
    board.start("s", samples=40, chunk_samples=1, seed=0, now=0)
    board.expire(now=60)
    assert board.strikes["10.0.0.5"] == MAX_STRIKES
    for step in range(MAX_STRIKES):
        (job_id, chunk), *_ = board.held["late"]
        params = board.jobs[job_id].shape.chunk_message(chunk).params
        board.complete("late", job_id, chunk, answer(params), now=61 + step)
    assert "10.0.0.5" not in board.strikes
    assert len(board.held["late"]) == 4


def test_addresses_of_one_ipv6_64_share_the_per_owner_limit() -> None:
    board = JobBoard(JobRules(per_owner=1))
    board.start("1", samples=10, chunk_samples=1, seed=0, owner="2001:db8:0:1::1")
    with pytest.raises(JobRefused, match="already has 1 unfinished"):
        board.start("2", samples=10, chunk_samples=1, seed=0, owner="2001:db8:0:1::2")
    board.start("3", samples=10, chunk_samples=1, seed=0, owner="2001:db8:0:2::1")
