"""The default job engine: the in-memory `JobBoard` of this one process, delivered through the hub.

The board decides (no I/O, clock passed in); this adapter reads the clock, delivers the board's
`Update`s (chunks to their pages, progress to everyone) and sweeps expired leases once a second.
"""

from __future__ import annotations

import asyncio
import time

from server.engines import PageHub
from server.job_rules import JobRules
from server.jobs import JobBoard
from server.protocol import MonteCarloResult

SWEEP_SECONDS = 1.0


class LocalJobs:
    """`JobEngine` (see `server.engines`) over one process's `JobBoard`."""

    def __init__(self, hub: PageHub, rules: JobRules | None = None) -> None:
        self.hub = hub
        self.board = JobBoard(rules)

    async def start(
        self, key: str, samples: int, chunk_samples: int, seed: int, *, owner: str
    ) -> bool:
        """Start a job; True for a resend (see `JobBoard.start`)."""
        update = self.board.start(
            key, samples, chunk_samples, seed, owner=owner, now=time.monotonic()
        )
        self.deliver(update)
        return update.duplicate

    async def join(self, client_id: str, slots: int) -> None:
        """See `JobBoard.join` (its address: what strikes are counted by)."""
        connection = self.hub.connections.get(client_id)
        address = connection.address if connection is not None else ""
        self.deliver(self.board.join(client_id, slots, time.monotonic(), address=address))

    async def leave(self, client_id: str) -> None:
        """See `JobBoard.leave`."""
        self.deliver(self.board.leave(client_id, time.monotonic()))

    async def complete(
        self, client_id: str, job_id: str, chunk: int, inside: int, samples: int
    ) -> bool:
        """See `JobBoard.complete`; True for a duplicate."""
        result = MonteCarloResult(
            inside=inside, samples=samples, estimate=4 * inside / samples if samples else 0.0
        )
        update = self.board.complete(client_id, job_id, chunk, result, now=time.monotonic())
        self.deliver(update)
        return update.duplicate

    async def run(self) -> None:
        """Once a second: take back expired leases, end idle jobs."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.deliver(self.board.expire(time.monotonic()))

    def deliver(self, update: JobBoard.Update) -> None:
        """Chunks to their pages, progress to everyone."""
        for assignment in update.assignments:
            target = self.hub.connections.get(assignment.client_id)
            if target is None or not target.send(assignment.message):
                # Its page is gone or stuck: put the chunk back for someone else.
                self.deliver(self.board.leave(assignment.client_id, time.monotonic()))
        for progress in update.progress:
            self.hub.broadcast(progress)
