"""Group commit (`server.batcher`): batches, failures and writers that go away."""

from __future__ import annotations

import asyncio

import pytest

from server.batcher import Batcher


class Committer:
    """A fake `commit` that records each batch and how many were being written at once."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.writing = 0
        self.most_at_once = 0
        self.fail_on = fail_on
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        self.writing += 1
        self.most_at_once = max(self.most_at_once, self.writing)
        try:
            await self.release.wait()
            await asyncio.sleep(0.01)
            if self.fail_on in items:
                raise OSError("disk on fire")
            return [item.upper() for item in items]
        finally:
            self.writing -= 1


async def test_each_writer_gets_its_own_answer_and_concurrent_writes_share_batches() -> None:
    commit = Committer()
    batcher = Batcher[str, str](commit, max_batch=1000)
    answers = await asyncio.gather(*(batcher.submit(f"w{i}") for i in range(100)))
    assert answers == [f"W{i}" for i in range(100)]
    assert batcher.commits == len(commit.batches) <= 2
    assert commit.most_at_once == 1, "one batch is written at a time"


async def test_a_lone_write_is_committed_at_once_without_waiting_for_company() -> None:
    commit = Committer()
    batcher = Batcher[str, str](commit, max_batch=1000)
    assert await asyncio.wait_for(batcher.submit("alone"), 1) == "ALONE"
    assert commit.batches == [["alone"]]


async def test_max_batch_caps_every_batch() -> None:
    commit = Committer()
    batcher = Batcher[str, str](commit, max_batch=7)
    await asyncio.gather(*(batcher.submit(f"w{i}") for i in range(40)))
    assert max(len(b) for b in commit.batches) <= 7
    assert sum(len(b) for b in commit.batches) == 40


async def test_a_failed_batch_fails_only_its_writers_and_the_next_batch_still_commits() -> None:
    commit = Committer(fail_on="bad")
    batcher = Batcher[str, str](commit, max_batch=1000, fail=lambda exc: RuntimeError(f"no: {exc}"))
    with pytest.raises(RuntimeError, match="no: disk on fire"):
        await batcher.submit("bad")
    assert await batcher.submit("good") == "GOOD"


async def test_a_writer_that_goes_away_still_has_its_write_committed_with_the_others() -> None:
    commit = Committer()
    commit.release.clear()
    batcher = Batcher[str, str](commit, max_batch=1000)
    leaving = asyncio.create_task(batcher.submit("leaving"))
    staying = asyncio.create_task(batcher.submit("staying"))
    await asyncio.sleep(0.01)
    leaving.cancel()
    commit.release.set()
    assert await staying == "STAYING"
    assert leaving.cancelled()
    assert commit.batches == [["leaving", "staying"]]


async def test_drain_waits_for_everything_queued() -> None:
    commit = Committer()
    batcher = Batcher[str, str](commit, max_batch=3)
    writers = [asyncio.create_task(batcher.submit(f"w{i}")) for i in range(10)]
    await asyncio.sleep(0)
    await batcher.drain()
    assert all(w.done() for w in writers)
    assert sum(len(b) for b in commit.batches) == 10
