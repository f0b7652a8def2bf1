"""Distributed jobs in one process's memory: who holds which chunk until when. No I/O here.

The board only decides; the caller (`server.local_jobs`) delivers its `Update` (chunks to pages,
progress to all) and passes the clock in (`now`, monotonic seconds), so every rule below is
testable without waiting. What is refused and why is `server.job_rules`, shared with the Redis
engine. Invariants the tests rely on:

- a chunk copy is held by at most one page at a time, under a lease: a page that leaves, or holds
  a chunk longer than `lease_seconds`, loses it and it goes back to the front of the queue;
- only the page holding a chunk may answer it, and the answer must be plausible (its `samples`
  are the chunk's, `0 <= inside <= samples`); the server cannot check `inside` itself (it does
  not recompute), which is what `replicas=2` is for: each chunk then goes to two different
  pages and counts only when both answers agree;
- each chunk's result is counted exactly once (a late or repeated answer for a finished chunk
  is acknowledged as a duplicate and ignored);
- jobs end: an unfinished job with no answer for `idle_seconds`, or started `max_seconds` ago,
  expires, and a finished or expired job is forgotten `keep_seconds` later. One address may
  have `per_owner` unfinished jobs, and there are at most MAX_ACTIVE_JOBS in all, so a few
  frames cannot lock the board.
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from dataclasses import dataclass, field
from itertools import count

from server.job_rules import (
    MAX_STRIKES,
    JobRules,
    JobShape,
    Totals,
    address_key,
    allowance,
    check_answer,
    check_room,
    chunk_count,
    job_expired,
    lease_for,
    no_such_job,
    not_holder,
    progress,
)
from server.protocol import JobChunkMessage, JobProgressMessage, MonteCarloResult

log = logging.getLogger(__name__)

# How far into a job's queue `_fill` looks for a chunk copy the page does not already have
# (copies of one chunk sit next to each other, so a short look suffices).
LOOK_AHEAD = 8


@dataclass
class Job:
    """One Monte Carlo pi job and its running total."""

    shape: JobShape
    owner: str = ""
    key: str = ""
    active_at: float = 0.0
    started_at: float = 0.0
    #: Chunk copies waiting for a page (a chunk appears once per answer still needed).
    pending: deque[int] = field(default_factory=deque)
    #: chunk -> {page: lease deadline}
    holders: dict[int, dict[str, float]] = field(default_factory=dict)
    #: chunk -> {page: inside}, answers waiting for a second opinion (replicas > 1 only)
    answers: dict[int, dict[str, int]] = field(default_factory=dict)
    #: chunk -> pages whose lease on it ran out: they are not given it again, but may still
    #: answer it while no other page has taken it (a slow page's work is not wasted).
    lapsed: dict[int, set[str]] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)
    inside: int = 0
    samples_done: int = 0
    expired: bool = False
    disagreements: int = 0

    @property
    def id(self) -> str:
        return self.shape.id

    @property
    def done(self) -> bool:
        return len(self.finished) == self.shape.chunks

    @property
    def over(self) -> bool:
        """Finished or expired: nothing more will be handed out or counted."""
        return self.done or self.expired

    def progress(self, workers: int) -> JobProgressMessage:
        totals = Totals(self.inside, self.samples_done, len(self.finished), self.done, self.expired)
        return progress(self.shape, totals, workers)


@dataclass(frozen=True)
class Assignment:
    """A chunk to send to one page."""

    client_id: str
    message: JobChunkMessage


class JobBoard:
    """Every job, every volunteer page, and who holds which chunk until when."""

    @dataclass
    class Update:
        """What a board operation decided: chunks to deliver and progress to broadcast."""

        assignments: list[Assignment] = field(default_factory=list)
        progress: list[JobProgressMessage] = field(default_factory=list)
        duplicate: bool = False

    def __init__(self, rules: JobRules | None = None) -> None:
        self.rules = rules or JobRules()
        self.jobs: dict[str, Job] = {}
        self.slots: dict[str, int] = {}
        self.held: dict[str, set[tuple[str, int]]] = {}
        self.started: dict[str, str] = {}
        #: page -> its client address; address -> strikes (`server.job_rules.allowance`).
        self.address: dict[str, str] = {}
        self.strikes: dict[str, int] = {}
        self._ids = count(1)
        # Unfinished jobs, in start order (at most MAX_ACTIVE_JOBS, so scanning them is cheap).
        self._active: dict[str, Job] = {}
        self._per_owner: dict[str, int] = {}
        # (deadline, job id, chunk, page): lazily deleted, checked against `holders` when due.
        self._leases: list[tuple[float, str, int, str]] = []
        # (forget at, job id) in time order, since keep_seconds is the same for every job.
        self._retired: deque[tuple[float, str]] = deque()

    def start(
        self,
        key: str,
        samples: int,
        chunk_samples: int,
        seed: int,
        *,
        owner: str = "",
        now: float = 0.0,
    ) -> JobBoard.Update:
        """Create a job and hand its first chunks to the volunteers.

        Args:
            key: the `job_start` message's id; a resend of it (after a reconnect) does not start
                a second job but reports the first one's progress as a duplicate.
            samples: total samples; chunk_samples: samples per chunk; seed: the job's seed.
            owner: who starts it (the client's address), for the per-owner limit.
            now: the clock.

        Raises:
            JobRefused: `invalid_job` when the job would have more than MAX_CHUNKS chunks;
                `job_limit` when MAX_ACTIVE_JOBS jobs, or `per_owner` of this owner's, are
                unfinished.
        """
        if (existing := self.started.get(key)) is not None and existing in self.jobs:
            job = self.jobs[existing]
            return JobBoard.Update(progress=[job.progress(len(self.slots))], duplicate=True)
        chunks = chunk_count(samples, chunk_samples)
        owner = address_key(owner)
        check_room(len(self._active), self._per_owner.get(owner, 0), self.rules)
        shape = JobShape(f"job-{next(self._ids)}", samples, chunk_samples, seed)
        job = Job(shape, owner, key, now, now)
        for chunk in range(chunks):
            job.pending.extend([chunk] * self.rules.replicas)
        self.jobs[job.id] = job
        self._active[job.id] = job
        self._per_owner[owner] = self._per_owner.get(owner, 0) + 1
        self.started[key] = job.id
        return JobBoard.Update(
            assignments=self._fill(now), progress=[job.progress(len(self.slots))]
        )

    def join(
        self, client_id: str, slots: int, now: float = 0.0, *, address: str = ""
    ) -> JobBoard.Update:
        """A page volunteers to hold up to `slots` chunks at a time (fewer, and for a shorter
        lease, while its address has strikes: see `server.job_rules.allowance`)."""
        self.slots[client_id] = slots
        self.address[client_id] = address_key(address) if address else ""
        self.held.setdefault(client_id, set())
        return JobBoard.Update(assignments=self._fill(now))

    def leave(self, client_id: str, now: float = 0.0) -> JobBoard.Update:
        """A page stops volunteering (or disconnected): its chunks go back to the queue's front."""
        self.slots.pop(client_id, None)
        held = self.held.pop(client_id, set())
        if held:  # leaving with chunks unanswered: leaving and joining again is no fresh start
            self._strike(client_id, 1)
        self.address.pop(client_id, None)
        for job_id, chunk in sorted(held, reverse=True):
            self._release(self.jobs[job_id], chunk, client_id)
        return JobBoard.Update(assignments=self._fill(now))

    def complete(
        self,
        client_id: str,
        job_id: str,
        chunk: int,
        result: MonteCarloResult,
        *,
        now: float = 0.0,
    ) -> JobBoard.Update:
        """Count one chunk's result from the page holding it, once.

        Raises:
            JobRefused: `invalid_chunk` for an unknown job or chunk, or an implausible result
                (its samples are not the chunk's, or inside > samples); `not_holder` when this
                page does not hold the chunk (never sent it, or lost it to a lease or a leave).
        """
        job = self.jobs.get(job_id)
        if job is None:
            raise no_such_job(job_id)
        check_answer(job.shape, chunk, result.inside, result.samples)
        if chunk in job.finished:
            return JobBoard.Update(duplicate=True)
        if client_id in job.lapsed.get(chunk, ()) and chunk in job.pending:
            # Its lease ran out but nobody has taken the chunk since: the answer still counts.
            job.pending.remove(chunk)
            job.holders.setdefault(chunk, {})[client_id] = now
            self.held.setdefault(client_id, set()).add((job_id, chunk))
        holders = job.holders.get(chunk, {})
        if client_id not in holders:
            raise job_expired(job_id) if job.expired else not_holder(job_id, chunk)
        del holders[client_id]
        if not holders:
            del job.holders[chunk]
        self.held.get(client_id, set()).discard((job_id, chunk))
        self._strike(client_id, -1)
        job.active_at = now
        answers = job.answers.setdefault(chunk, {})
        answers[client_id] = result.inside
        if len(answers) < self.rules.replicas:
            return JobBoard.Update(assignments=self._fill(now))
        del job.answers[chunk]
        if len(set(answers.values())) > 1:
            # Someone computed it wrong (or lied): count nobody's, and ask again.
            job.disagreements += 1
            log.warning("job %s chunk %d: answers disagree %s; recomputing", job_id, chunk, answers)
            job.pending.extendleft([chunk] * self.rules.replicas)
            return JobBoard.Update(assignments=self._fill(now))
        job.finished.add(chunk)
        job.lapsed.pop(chunk, None)
        job.inside += result.inside
        job.samples_done += result.samples
        if job.done:
            self._retire(job, now)
        return JobBoard.Update(
            assignments=self._fill(now), progress=[job.progress(len(self.slots))]
        )

    def expire(self, now: float) -> JobBoard.Update:
        """Take back chunks whose lease ran out, end idle jobs, forget old ones.

        Cost is proportional to what expires (a heap of leases, a queue of retired jobs) plus
        the at most MAX_ACTIVE_JOBS unfinished jobs, never to every job ever started.
        """
        progress: list[JobProgressMessage] = []
        while self._leases and self._leases[0][0] <= now:
            deadline, job_id, chunk, client_id = heapq.heappop(self._leases)
            job = self.jobs.get(job_id)
            if job is None or job.holders.get(chunk, {}).get(client_id) != deadline:
                continue  # answered, released or re-leased since
            log.info("client %s held chunk %d of %s too long; requeued", client_id, chunk, job_id)
            self.held[client_id].discard((job_id, chunk))
            self._release(job, chunk, client_id)
            job.lapsed.setdefault(chunk, set()).add(client_id)
            self._strike(client_id, 1)
        for job in list(self._active.values()):
            idle = now - job.active_at >= self.rules.idle_seconds
            if idle or now - job.started_at >= self.rules.max_seconds:
                why = "had no answer for" if idle else "ran out of its"
                seconds = self.rules.idle_seconds if idle else self.rules.max_seconds
                log.info("job %s %s %gs; expired", job.id, why, seconds)
                job.expired = True
                job.pending.clear()
                for chunk, holders in job.holders.items():
                    for client_id in holders:
                        self.held.get(client_id, set()).discard((job.id, chunk))
                job.holders.clear()
                job.answers.clear()
                job.lapsed.clear()
                self._retire(job, now)
                progress.append(job.progress(len(self.slots)))
        while self._retired and self._retired[0][0] <= now:
            _, job_id = self._retired.popleft()
            job = self.jobs.pop(job_id)
            if self.started.get(job.key) == job_id:
                del self.started[job.key]
        return JobBoard.Update(assignments=self._fill(now), progress=progress)

    def _strike(self, client_id: str, change: int) -> None:
        """Add (or take away) a strike for the page's address (none kept for an unknown one)."""
        address = self.address.get(client_id)
        if not address:
            return
        strikes = min(max(self.strikes.get(address, 0) + change, 0), MAX_STRIKES)
        if strikes:
            self.strikes[address] = strikes
        else:
            self.strikes.pop(address, None)

    def _allowance(self, client_id: str) -> int:
        strikes = self.strikes.get(self.address.get(client_id, ""), 0)
        return allowance(self.slots[client_id], strikes)

    def _release(self, job: Job, chunk: int, client_id: str) -> None:
        """Put a copy held by `client_id` back at the front of its job's queue."""
        holders = job.holders.get(chunk, {})
        if holders.pop(client_id, None) is None:
            return
        if not holders:
            job.holders.pop(chunk, None)
        if not job.over:
            job.pending.appendleft(chunk)

    def _retire(self, job: Job, now: float) -> None:
        """A job is over: free its place among the active ones, forget it later."""
        if self._active.pop(job.id, None) is None:
            return
        self._per_owner[job.owner] -= 1
        if not self._per_owner[job.owner]:
            del self._per_owner[job.owner]
        self._retired.append((now + self.rules.keep_seconds, job.id))

    def _take(self, job: Job, client_id: str) -> int | None:
        """A pending chunk copy this page neither holds, nor answered, nor let lapse."""
        for position, chunk in enumerate(job.pending):
            if position >= LOOK_AHEAD:
                return None
            if (
                client_id in job.holders.get(chunk, {})
                or client_id in job.answers.get(chunk, {})
                or client_id in job.lapsed.get(chunk, ())
            ):
                continue
            del job.pending[position]
            return chunk
        return None

    def _fill(self, now: float) -> list[Assignment]:
        """Give free slots pending chunks, oldest job first, one chunk per page per round."""
        assignments: list[Assignment] = []
        queue = [job for job in self._active.values() if job.pending]
        while queue:
            free = [c for c in self.slots if len(self.held[c]) < self._allowance(c)]
            if not free:
                break
            given = False
            for client_id in free:
                for job in queue:
                    chunk = self._take(job, client_id)
                    if chunk is not None:
                        break
                else:
                    continue
                strikes = self.strikes.get(self.address.get(client_id, ""), 0)
                deadline = now + lease_for(self.rules.lease_seconds, strikes)
                job.holders.setdefault(chunk, {})[client_id] = deadline
                self.held[client_id].add((job.id, chunk))
                heapq.heappush(self._leases, (deadline, job.id, chunk, client_id))
                assignments.append(Assignment(client_id, job.shape.chunk_message(chunk)))
                given = True
            queue = [job for job in queue if job.pending]
            if not given:
                break  # what is left, no free page may take (it holds or answered those)
        return assignments
