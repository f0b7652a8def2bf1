"""The rules of the job board, as pure functions: both job engines call them. No I/O here.

The in-memory board (`server.jobs`) and the Redis engine (`server.redis.jobs`) keep their state
differently, but decide the same way: how a job is split into chunks and seeded, which starts
and answers are refused (and with which error), and what a chunk and a progress report say.
Each refusal is a `JobRefused` whose `name` is the kind of `error` the page receives.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from server.protocol import ChunkParams, JobChunkMessage, JobProgressMessage

#: Chunks in one job at most. Starting a job queues every chunk at once (with Redis, one XADD
#: each inside one script, which blocks Redis meanwhile): 100,000 chunks x 8 jobs stalled Redis
#: for ~5 s; 4,096 x 8 is tens of milliseconds. A bigger job takes bigger chunks.
MAX_CHUNKS = 4_096
#: Samples in one job at most (its work): 10^11 is hours of one page's time at most, and
#: `max_seconds` ends a job that does not get through it.
MAX_JOB_SAMPLES = 10**11
# Unfinished jobs at once: each holds a queue of up to MAX_CHUNKS, so this bounds memory.
MAX_ACTIVE_JOBS = 8


class JobRefused(ValueError):
    """A `job_start` or `chunk_result` the board will not take; `name` is the error's kind."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def address_key(address: str) -> str:
    """What per-address job rules (`per_owner`, strikes) count by: an IPv4 address as it is,
    an IPv6 address by its /64 (one subscriber's network: a host picks any address in it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # an IPv4 client on a dual-stack socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


#: Strikes an address may collect (see `allowance`): each halves what its pages may hold.
MAX_STRIKES = 3


def allowance(slots: int, strikes: int) -> int:
    """How many chunks a page may hold at once, given its address's strikes.

    An address earns a strike each time one of its pages lets a lease run out or leaves holding
    chunks, and loses one for each chunk it answers; the record is the address's, so leaving and
    joining again does not wipe it. Each strike halves the page's slots (at least one), so a
    hoarder soon holds one chunk at a time, and honest pages behind the same address recover as
    they answer.
    """
    return max(1, slots >> min(strikes, MAX_STRIKES))


def lease_for(lease_seconds: float, strikes: int) -> float:
    """A page's lease, given its address's strikes: halved for each (a hoarder loses sooner)."""
    return lease_seconds / (1 << min(strikes, MAX_STRIKES))


@dataclass(frozen=True)
class JobRules:
    """The board's limits (from the server's settings)."""

    lease_seconds: float = 120.0
    idle_seconds: float = 600.0
    #: A job ends this long after it started, finished or not: answering a chunk now and then
    #: (resetting `idle_seconds`) cannot keep a job, and its place on the board, for ever.
    max_seconds: float = 3600.0
    keep_seconds: float = 600.0
    per_owner: int = 2
    replicas: int = 1


def chunk_seed(job_seed: int, chunk: int) -> int:
    """The seed of one chunk: independent-looking per chunk, reproducible from the job's seed.

    32 bits so it survives the page's JavaScript numbers exactly.
    """
    digest = hashlib.blake2b(f"{job_seed}:{chunk}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class JobShape:
    """A job's size and seed: what a page needs to compute a chunk and an answer is checked by."""

    id: str
    samples: int
    chunk_samples: int
    seed: int

    @property
    def chunks(self) -> int:
        return -(-self.samples // self.chunk_samples)

    def chunk_size(self, chunk: int) -> int:
        """Samples in one chunk (the last one takes the remainder)."""
        return min(self.chunk_samples, self.samples - chunk * self.chunk_samples)

    def chunk_message(self, chunk: int) -> JobChunkMessage:
        """The `job_chunk` that hands `chunk` to a page."""
        return JobChunkMessage(
            job_id=self.id,
            chunk=chunk,
            params=ChunkParams(samples=self.chunk_size(chunk), seed=chunk_seed(self.seed, chunk)),
        )


def chunk_count(samples: int, chunk_samples: int) -> int:
    """How many chunks a new job of `samples` in chunks of `chunk_samples` has.

    Raises:
        JobRefused: `invalid_job` beyond MAX_CHUNKS or MAX_JOB_SAMPLES.
    """
    if samples > MAX_JOB_SAMPLES:
        raise JobRefused(
            "invalid_job",
            f"A job may have {MAX_JOB_SAMPLES:,} samples at most, not {samples:,}.",
        )
    chunks = -(-samples // chunk_samples)
    if chunks > MAX_CHUNKS:
        raise JobRefused(
            "invalid_job",
            f"{samples} samples in chunks of {chunk_samples} makes {chunks} chunks; "
            f"the limit is {MAX_CHUNKS}: use bigger chunks.",
        )
    return chunks


def check_room(active: int, owned: int, rules: JobRules) -> None:
    """Whether another job may start while `active` are unfinished, `owned` of them its owner's.

    Raises:
        JobRefused: `job_limit` (`too_many_jobs` or `too_many_of_owner`).
    """
    if active >= MAX_ACTIVE_JOBS:
        raise too_many_jobs()
    if owned >= rules.per_owner:
        raise too_many_of_owner(rules)


def too_many_jobs() -> JobRefused:
    """MAX_ACTIVE_JOBS jobs are unfinished."""
    return JobRefused(
        "job_limit", f"{MAX_ACTIVE_JOBS} jobs are already running: wait for one to finish."
    )


def too_many_of_owner(rules: JobRules) -> JobRefused:
    """The owner (a client address) already has `per_owner` unfinished jobs."""
    return JobRefused(
        "job_limit",
        f"This address already has {rules.per_owner} unfinished jobs: wait for one to finish.",
    )


def check_answer(shape: JobShape, chunk: int, inside: int, samples: int) -> None:
    """Whether an answer names a chunk of the job and is plausible for it.

    The server cannot check `inside` itself (it does not recompute): that is what replicas are
    for. It checks what it can: the chunk's samples, and `0 <= inside <= samples`.

    Raises:
        JobRefused: `invalid_chunk` for an unknown chunk or an implausible answer.
    """
    if not 0 <= chunk < shape.chunks:
        raise JobRefused(
            "invalid_chunk", f"Job {shape.id!r} has chunks 0 to {shape.chunks - 1}, not {chunk}."
        )
    expected = shape.chunk_size(chunk)
    if samples != expected or not 0 <= inside <= samples:
        raise JobRefused(
            "invalid_chunk",
            f"Chunk {chunk} of {shape.id!r} has {expected} samples; the result says "
            f"{inside} inside of {samples}.",
        )


def no_such_job(job_id: str) -> JobRefused:
    """An answer for a job that never was, or is forgotten."""
    return JobRefused("invalid_chunk", f"There is no job {job_id!r}.")


def job_expired(job_id: str) -> JobRefused:
    """An answer for a job that ended unfinished."""
    return JobRefused("invalid_chunk", f"Job {job_id!r} has expired.")


def not_holder(job_id: str, chunk: int) -> JobRefused:
    """An answer from a page that does not hold the chunk.

    The rule both engines keep: only the chunk's current holder may answer it. A page whose
    lease ran out still holds the chunk until another page is handed it (its slow work is not
    wasted); from then on its answer is refused with this, and the new holder's counts. Each
    engine checks it where its state lives (the board's `holders`, the Redis COMPLETE script).
    """
    return JobRefused(
        "not_holder",
        f"This connection does not hold chunk {chunk} of {job_id!r} (it was never sent "
        "here, or went back to the queue when its lease ran out or the page left).",
    )


@dataclass(frozen=True)
class Totals:
    """What a job has counted so far, and whether it ended."""

    inside: int = 0
    samples_done: int = 0
    chunks_done: int = 0
    done: bool = False
    expired: bool = False


def progress(shape: JobShape, totals: Totals, workers: int) -> JobProgressMessage:
    """The `job_progress` every page is sent: the job's running total and estimate of pi."""
    return JobProgressMessage(
        job_id=shape.id,
        samples=shape.samples,
        samples_done=totals.samples_done,
        inside=totals.inside,
        estimate=4 * totals.inside / totals.samples_done if totals.samples_done else None,
        chunks=shape.chunks,
        chunks_done=totals.chunks_done,
        workers=workers,
        done=totals.done,
        expired=totals.expired,
    )
