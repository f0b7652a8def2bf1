"""Group commit: writes that arrive while one batch is being written form the next batch.

One flush at a time takes everything queued (up to `max_batch`) and hands it to `commit` as a
list, then resolves each waiting `submit` with its own answer. A lone write is committed at once
(no timer, no added latency); under load a batch grows with the number of concurrent writers,
so the cost of a commit (an fsync, a round trip to Redis) is paid once per batch, not per item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class _Waiting[T, R]:
    item: T
    done: asyncio.Future[R]


class Batcher[T, R]:
    """Feeds `commit(items) -> answers` (one answer per item, same order) in batches."""

    def __init__(
        self,
        commit: Callable[[list[T]], Awaitable[list[R]]],
        max_batch: int,
        fail: Callable[[Exception], Exception] = lambda exc: exc,
        name: str = "group-commit",
    ) -> None:
        """
        Args:
            commit: writes one batch; raises when none of it was written.
            max_batch: items per batch at most (1 commits each on its own).
            fail: turns commit's exception into the one every waiter of that batch gets.
            name: the flush task's name.
        """
        self._commit = commit
        self._max_batch = max(1, max_batch)
        self._fail = fail
        self._name = name
        self._queue: list[_Waiting[T, R]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: How many batches were committed (tests and the benchmark read it).
        self.commits = 0

    async def submit(self, item: T) -> R:
        """Queue `item`; returns its answer once the batch holding it is committed.

        Raises:
            Exception: what `fail` made of the batch's failure.
        """
        waiting = _Waiting[T, R](item, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=self._name)
        # shield: a writer that goes away mid-batch must not cancel the others' batch.
        return await asyncio.shield(waiting.done)

    async def drain(self) -> None:
        """Wait until everything queued so far is committed (or failed)."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            try:
                answers = await self._commit([w.item for w in batch])
            except Exception as exc:
                error = self._fail(exc)
                for waiting in batch:
                    if not waiting.done.done():
                        waiting.done.set_exception(error)
                        # Marks it retrieved: a writer that went away must not leave a
                        # "Future exception was never retrieved" behind; awaiting still raises.
                        waiting.done.exception()
                continue
            self.commits += 1
            for waiting, answer in zip(batch, answers, strict=True):
                if not waiting.done.done():
                    waiting.done.set_result(answer)
