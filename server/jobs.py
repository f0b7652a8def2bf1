"""Distributed jobs: split Monte Carlo pi into chunks, hand them out, add them up. No I/O here.

The board only decides; the caller delivers its `Update` (chunks to pages, progress to all).
Invariants the tests rely on: a chunk is held by at most one page at a time, a chunk whose page
leaves goes back to the front of the queue, and each chunk's result is counted exactly once
(a late or repeated answer for a finished chunk is acknowledged as a duplicate and ignored).
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from itertools import count

from offload.tasks.montecarlo import MonteCarloParams, MonteCarloResult
from server.protocol import JobChunkMessage, JobProgressMessage

MAX_CHUNKS = 100_000
# Unfinished jobs at once: each holds a queue of up to MAX_CHUNKS, so this bounds memory.
MAX_ACTIVE_JOBS = 8


def chunk_seed(job_seed: int, chunk: int) -> int:
    """The seed of one chunk: independent-looking per chunk, reproducible from the job's seed.

    32 bits so it survives the page's JavaScript numbers exactly.
    """
    digest = hashlib.blake2b(f"{job_seed}:{chunk}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


@dataclass
class Job:
    """One Monte Carlo pi job and its running total."""

    id: str
    samples: int
    chunk_samples: int
    seed: int
    pending: deque[int] = field(default_factory=deque)
    holders: dict[int, str] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)
    inside: int = 0
    samples_done: int = 0

    @property
    def chunks(self) -> int:
        return -(-self.samples // self.chunk_samples)

    @property
    def done(self) -> bool:
        return len(self.finished) == self.chunks

    def chunk_size(self, chunk: int) -> int:
        """Samples in one chunk (the last one takes the remainder)."""
        return min(self.chunk_samples, self.samples - chunk * self.chunk_samples)

    def chunk_message(self, chunk: int) -> JobChunkMessage:
        return JobChunkMessage(
            job_id=self.id,
            chunk=chunk,
            params=MonteCarloParams(
                samples=self.chunk_size(chunk), seed=chunk_seed(self.seed, chunk)
            ),
        )

    def progress(self, workers: int) -> JobProgressMessage:
        return JobProgressMessage(
            job_id=self.id,
            samples=self.samples,
            samples_done=self.samples_done,
            inside=self.inside,
            estimate=4 * self.inside / self.samples_done if self.samples_done else None,
            chunks=self.chunks,
            chunks_done=len(self.finished),
            workers=workers,
            done=self.done,
        )


@dataclass(frozen=True)
class Assignment:
    """A chunk to send to one page."""

    client_id: str
    message: JobChunkMessage


class JobBoard:
    """Every job, every volunteer page, and who holds which chunk."""

    @dataclass
    class Update:
        """What a board operation decided: chunks to deliver and progress to broadcast."""

        assignments: list[Assignment] = field(default_factory=list)
        progress: list[JobProgressMessage] = field(default_factory=list)
        duplicate: bool = False

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.slots: dict[str, int] = {}
        self.held: dict[str, set[tuple[str, int]]] = {}
        self.started: dict[str, str] = {}
        self._ids = count(1)

    def start(self, key: str, samples: int, chunk_samples: int, seed: int) -> JobBoard.Update:
        """Create a job and hand its first chunks to the volunteers.

        Args:
            key: the `job_start` message's id; a resend of it (after a reconnect) does not start
                a second job but reports the first one's progress as a duplicate.
            samples: total samples; chunk_samples: samples per chunk; seed: the job's seed.

        Raises:
            ValueError: when the job would have more than MAX_CHUNKS chunks, or
                MAX_ACTIVE_JOBS jobs are unfinished.
        """
        if (existing := self.started.get(key)) is not None:
            job = self.jobs[existing]
            return JobBoard.Update(progress=[job.progress(len(self.slots))], duplicate=True)
        chunks = -(-samples // chunk_samples)
        if chunks > MAX_CHUNKS:
            raise ValueError(
                f"{samples} samples in chunks of {chunk_samples} makes {chunks} chunks; "
                f"the limit is {MAX_CHUNKS}: use bigger chunks."
            )
        if sum(not job.done for job in self.jobs.values()) >= MAX_ACTIVE_JOBS:
            raise ValueError(f"{MAX_ACTIVE_JOBS} jobs are already running: wait for one to finish.")
        job = Job(f"job-{next(self._ids)}", samples, chunk_samples, seed)
        job.pending.extend(range(chunks))
        self.jobs[job.id] = job
        self.started[key] = job.id
        return JobBoard.Update(assignments=self._fill(), progress=[job.progress(len(self.slots))])

    def join(self, client_id: str, slots: int) -> JobBoard.Update:
        """A page volunteers to hold up to `slots` chunks at a time."""
        self.slots[client_id] = slots
        self.held.setdefault(client_id, set())
        return JobBoard.Update(assignments=self._fill())

    def leave(self, client_id: str) -> JobBoard.Update:
        """A page stops volunteering (or disconnected): its chunks go back to the queue's front."""
        self.slots.pop(client_id, None)
        for job_id, chunk in sorted(self.held.pop(client_id, set()), reverse=True):
            job = self.jobs[job_id]
            del job.holders[chunk]
            job.pending.appendleft(chunk)
        return JobBoard.Update(assignments=self._fill())

    def complete(self, job_id: str, chunk: int, result: MonteCarloResult) -> JobBoard.Update:
        """Count one chunk's result, once.

        Raises:
            ValueError: unknown job or chunk, or a result whose sample count does not match.
        """
        job = self.jobs.get(job_id)
        if job is None:
            raise ValueError(f"There is no job {job_id!r}.")
        if not 0 <= chunk < job.chunks:
            raise ValueError(f"Job {job_id!r} has chunks 0 to {job.chunks - 1}, not {chunk}.")
        expected = job.chunk_size(chunk)
        inside, samples = result["inside"], result["samples"]
        if samples != expected or inside > samples:
            raise ValueError(
                f"Chunk {chunk} of {job_id!r} has {expected} samples; the result says "
                f"{inside} inside of {samples}."
            )
        if chunk in job.finished:
            return JobBoard.Update(duplicate=True)
        # Whoever answers first wins, even a page that was thought gone (its answer, resent
        # after a reconnect, is as good as anyone's: the seed makes the chunk deterministic).
        holder = job.holders.pop(chunk, None)
        if holder is not None:
            self.held[holder].discard((job_id, chunk))
        elif chunk in job.pending:
            job.pending.remove(chunk)
        job.finished.add(chunk)
        job.inside += inside
        job.samples_done += samples
        return JobBoard.Update(assignments=self._fill(), progress=[job.progress(len(self.slots))])

    def _fill(self) -> list[Assignment]:
        """Give free slots pending chunks, oldest job first, one chunk per page per round."""
        assignments: list[Assignment] = []
        queue = [job for job in self.jobs.values() if job.pending]
        while queue:
            free = [c for c, n in self.slots.items() if len(self.held[c]) < n]
            if not free:
                break
            for client_id in free:
                if not queue:
                    break
                job = queue[0]
                chunk = job.pending.popleft()
                job.holders[chunk] = client_id
                self.held[client_id].add((job.id, chunk))
                assignments.append(Assignment(client_id, job.chunk_message(chunk)))
                if not job.pending:
                    queue.pop(0)
        return assignments
