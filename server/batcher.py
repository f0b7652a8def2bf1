"""Group commit: writes that arrive while a batch is being written form the next batch.

One batch is written at a time. Writes queue up meanwhile, and when it is done everything queued
(up to `max_batch`) goes to `commit` as one list; each waiting `submit` gets its own answer when
its batch is done. A lone write is committed on the next turn of the event loop (no timer, no
added latency), together with any write submitted in the same turn; under load a batch grows with
the number of concurrent writers, so the cost of a commit (an fsync, a round trip to Redis) is
paid once per batch, not per item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

#: Results per batch at most, for both stores: one transaction (or pipeline) stays short enough
#: to keep p99 acks low.
MAX_BATCH = 1000


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
            name: the writing task's name.
        """
        self._commit = commit
        self._max_batch = max(1, max_batch)
        self._fail = fail
        self._name = name
        self._queue: list[_Waiting[T, R]] = []
        #: The batch being written, if any: one at a time.
        self._writing: asyncio.Task[None] | None = None
        self._dispatch_due = False
        #: How many batches were committed (tests and the benchmark read it).
        self.commits = 0

    async def submit(self, item: T) -> R:
        """Queue `item`; returns its answer once the batch holding it is committed.

        Raises:
            Exception: what `fail` made of the batch's failure.
        """
        loop = asyncio.get_running_loop()
        # A plain call: subscripting the generic first (`_Waiting[T, R](...)`) costs a typing
        # alias call per write, on the path every ack waits for (docs/server.md).
        waiting: _Waiting[T, R] = _Waiting(item, loop.create_future())
        self._queue.append(waiting)
        if not self._dispatch_due:
            # On the next turn of the loop: every writer woken in this turn joins the batch.
            self._dispatch_due = True
            loop.call_soon(self._dispatch)
        # The batch runs in its own task: a writer that goes away (cancelled) cancels only its
        # own future; its write still happens with the rest of the batch.
        return await waiting.done

    async def drain(self) -> None:
        """Wait until everything queued so far is committed (or failed)."""
        while self._writing is not None or self._queue:
            if self._writing is None:
                self._dispatch()
            if self._writing is not None:
                await asyncio.gather(self._writing, return_exceptions=True)

    def _dispatch(self) -> None:
        """Hand what is queued to `commit` as one batch, unless a batch is being written: then it
        waits for that one (its end dispatches again)."""
        self._dispatch_due = False
        if self._queue and self._writing is None:
            batch = self._queue[: self._max_batch]
            del self._queue[: len(batch)]
            self._writing = asyncio.create_task(self._write(batch), name=self._name)

    async def _write(self, batch: list[_Waiting[T, R]]) -> None:
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
        else:
            self.commits += 1
            for waiting, answer in zip(batch, answers, strict=True):
                if not waiting.done.done():
                    waiting.done.set_result(answer)
        finally:
            self._writing = None
            self._dispatch()
