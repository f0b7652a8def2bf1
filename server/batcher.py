"""Group commit: writes that arrive while a batch is being written form the next batch.

Writes queue up; once per turn of the event loop the queue is handed to `commit` as one list (up
to `max_batch`), and each waiting `submit` gets its own answer when its batch is done. A lone write
is committed at once (no timer, no added latency); under load a batch grows with the number of
concurrent writers, so the cost of a commit (an fsync, a round trip to Redis) is paid once per
batch, not per item.

`depth` 2 hands a second batch to `commit` while the first is still being written, for a
committer that runs batches strictly in the order it got them (the SQLite store's one thread).
With one batch at a time every writer ends up in the same batch (a convoy): while the disk works
the event loop idles, and while the loop answers the writers the disk idles. So when nothing is
being written, a full queue is split in two halves; from then on one half is answered while the
other is written.
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
        depth: int = 1,
    ) -> None:
        """
        Args:
            commit: writes one batch; raises when none of it was written.
            max_batch: items per batch at most (1 commits each on its own).
            fail: turns commit's exception into the one every waiter of that batch gets.
            name: the commit tasks' name.
            depth: batches handed to `commit` at once; more than 1 only when `commit` itself
                runs batches one after another in the order it was called.
        """
        self._commit = commit
        self._max_batch = max(1, max_batch)
        self._fail = fail
        self._name = name
        self._depth = max(1, depth)
        self._queue: list[_Waiting[T, R]] = []
        self._batches: set[asyncio.Task[None]] = set()
        self._dispatch_due = False
        #: How many batches were committed (tests and the benchmark read it).
        self.commits = 0

    async def submit(self, item: T) -> R:
        """Queue `item`; returns its answer once the batch holding it is committed.

        Raises:
            Exception: what `fail` made of the batch's failure.
        """
        loop = asyncio.get_running_loop()
        waiting = _Waiting[T, R](item, loop.create_future())
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
        while self._batches or self._queue:
            if not self._batches:
                self._dispatch()
            await asyncio.gather(*self._batches, return_exceptions=True)

    def _dispatch(self) -> None:
        """Hand queued writes to `commit`, as many batches as `depth` allows."""
        self._dispatch_due = False
        while self._queue and len(self._batches) < self._depth:
            take = len(self._queue)
            if self._depth > 1 and not self._batches and take > 1:
                take = (take + 1) // 2  # the other half follows at once: see the module doc
            batch = self._queue[: min(take, self._max_batch)]
            del self._queue[: len(batch)]
            task = asyncio.create_task(self._write(batch), name=self._name)
            self._batches.add(task)

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
            task = asyncio.current_task()
            if task is not None:
                self._batches.discard(task)
            self._dispatch()
