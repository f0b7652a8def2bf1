"""Distributed jobs in Redis: a job started on any process is worked on by pages on all of them.

The chunk queue is one stream (`offload:chunks`) read through one consumer group: each process
is a consumer, reads entries for its volunteer pages (XREADGROUP) and hands each to one page. An
entry stays pending until its chunk is answered, so the chunks of a process that dies (kill -9,
no goodbye) are claimed by another process once idle for the lease (XAUTOCLAIM), and a page
that leaves gives its chunks back at once (acked and added again). The rules are the in-memory
board's (`server.job_rules` decides what is refused, how chunks are sized and seeded, what
progress says); what Redis adds is doing it atomically across processes:

- only the page a chunk was sent to may answer it, and the answer must be plausible;
- a chunk held past its lease may be handed to another page; from then on only that page's
  answer counts (the job's `:holders` hash names each chunk's holder, checked in COMPLETE);
- every chunk is counted exactly once: one Lua script adds the chunk to the job's set of
  finished chunks and, only if it was not there, adds its numbers to the job's totals;
- at most MAX_ACTIVE_JOBS unfinished jobs, `per_owner` per address (counted inside the START
  script, so two processes cannot both take the last place); a job with no answer for
  `idle_seconds`, or started `max_seconds` ago, expires, and an ended job's keys expire
  `keep_seconds` later.

Not supported: `replicas` (each chunk to two pages, compared): each chunk goes to one page, and
`RedisJobs` refuses rules that ask for more (the command line refuses `--replicate --redis`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError, ResponseError

from server.engines import PageHub, StorageError
from server.job_rules import (
    MAX_ACTIVE_JOBS,
    MAX_STRIKES,
    JobRules,
    JobShape,
    Totals,
    address_key,
    allowance,
    check_answer,
    chunk_count,
    job_expired,
    lease_for,
    no_such_job,
    not_holder,
    progress,
    too_many_jobs,
    too_many_of_owner,
)
from server.protocol import JobProgressMessage
from server.redis.hub import PRESENCE
from server.redis.link import BACKOFF_FIRST, BACKOFF_LAST, PREFIX, RedisLink, refused

log = logging.getLogger(__name__)

STREAM = PREFIX + "chunks"
GROUP = "offload-workers"
VOLUNTEERS = PREFIX + "volunteers:"
#: How long a blocked read waits for new chunks before looking again (ms).
READ_BLOCK_MS = 1000
SWEEP_SECONDS = 1.0
#: A dead process's entries claimed per sweep, and how long one must have been idle (so two
#: processes claiming at once do not both get it: a claim resets its idle time).
DEAD_CLAIM_COUNT = 1000
DEAD_IDLE_MS = 1000
#: Job shapes kept in memory (the oldest goes first).
SHAPE_CACHE = 4 * MAX_ACTIVE_JOBS

# Every script gets the key prefix as ARGV[1]: the keys it touches are derived from job ids.
START = """
local P, key = ARGV[1], ARGV[2]
local existing = redis.call('GET', P .. 'jobkey:' .. key)
if existing and redis.call('EXISTS', P .. 'job:' .. existing) == 1 then
    return {'duplicate', existing}
end
if redis.call('ZCARD', P .. 'jobs:active') >= tonumber(ARGV[9]) then return {'all', ''} end
local owner = ARGV[7]
if tonumber(redis.call('HGET', P .. 'jobs:owners', owner) or '0') >= tonumber(ARGV[10]) then
    return {'owner', ''}
end
local id = 'job-' .. redis.call('INCR', P .. 'jobs:seq')
local job = P .. 'job:' .. id
local chunks = tonumber(ARGV[6])
redis.call('HSET', job, 'samples', ARGV[3], 'chunk_samples', ARGV[4], 'seed', ARGV[5],
    'chunks', chunks, 'owner', owner, 'key', key, 'inside', 0, 'samples_done', 0,
    'chunks_done', 0, 'state', 'running')
redis.call('SET', P .. 'jobkey:' .. key, id)
redis.call('ZADD', P .. 'jobs:active', ARGV[8], id)
redis.call('ZADD', P .. 'jobs:born', ARGV[8], id)
redis.call('HINCRBY', P .. 'jobs:owners', owner, 1)
for chunk = 0, chunks - 1 do
    redis.call('XADD', P .. 'chunks', '*', 'job', id, 'chunk', chunk)
end
return {'new', id}
"""

# Shared by COMPLETE and EXPIRE: the job is over; free its place, forget it later.
RETIRE = """
local function retire(P, id, keep)
    local job = P .. 'job:' .. id
    redis.call('ZREM', P .. 'jobs:born', id)
    if redis.call('ZREM', P .. 'jobs:active', id) == 1 then
        local owner = redis.call('HGET', job, 'owner')
        if redis.call('HINCRBY', P .. 'jobs:owners', owner, -1) <= 0 then
            redis.call('HDEL', P .. 'jobs:owners', owner)
        end
    end
    redis.call('EXPIRE', job, keep)
    redis.call('EXPIRE', job .. ':done', keep)
    redis.call('DEL', job .. ':holders')
    redis.call('EXPIRE', P .. 'jobkey:' .. redis.call('HGET', job, 'key'), keep)
end
local function progress(job)
    return redis.call('HMGET', job, 'samples', 'chunk_samples', 'seed', 'inside',
        'samples_done', 'chunks_done', 'state')
end
"""

# The strikes of a holder's address (`server.job_rules.allowance`): the holder is
# 'process/page@address'; the record is the address's, kept an hour after its last change.
STRIKE = """
local function strike(P, holder, change, most)
    local address = string.match(holder or '', '@(.*)$')
    if not address or address == '' then return 0 end
    local key = P .. 'jobs:strikes'
    local n = redis.call('HINCRBY', key, address, change)
    if n <= 0 then
        redis.call('HDEL', key, address)
        n = 0
    elseif n > tonumber(most) then
        redis.call('HSET', key, address, most)
        n = tonumber(most)
    end
    redis.call('EXPIRE', key, 3600)
    return n
end
"""

# ARGV: prefix, group, entry id, job id, chunk, inside, samples, now, keep seconds, holder,
# and the job's samples, chunk_samples and seed the answer was checked against: a cached shape
# that is not the job's in Redis now (Redis lost its data and reused the id) is 'stale'.
# Only the chunk's current holder may answer (`server.job_rules.not_holder`): the check and
# the count are one script, so a page whose chunk was taken over meanwhile cannot slip in.
COMPLETE = (
    RETIRE
    + STRIKE
    + """
local P, id = ARGV[1], ARGV[4]
local job = P .. 'job:' .. id
if redis.call('EXISTS', job) == 0 then return {'gone'} end
local shape = redis.call('HMGET', job, 'samples', 'chunk_samples', 'seed')
if shape[1] ~= ARGV[11] or shape[2] ~= ARGV[12] or shape[3] ~= ARGV[13] then return {'stale'} end
if redis.call('HGET', job, 'state') == 'expired' then return {'expired'} end
if redis.call('SISMEMBER', job .. ':done', ARGV[5]) == 1 then return {'duplicate'} end
if redis.call('HGET', job .. ':holders', ARGV[5]) ~= ARGV[10] then return {'not_holder'} end
redis.call('HDEL', job .. ':holders', ARGV[5])
strike(P, ARGV[10], -1, ARGV[14])
redis.call('XACK', P .. 'chunks', ARGV[2], ARGV[3])
redis.call('XDEL', P .. 'chunks', ARGV[3])
redis.call('SADD', job .. ':done', ARGV[5])
redis.call('HINCRBY', job, 'inside', ARGV[6])
redis.call('HINCRBY', job, 'samples_done', ARGV[7])
local done = redis.call('HINCRBY', job, 'chunks_done', 1)
redis.call('ZADD', P .. 'jobs:active', 'XX', ARGV[8], id)
if done == tonumber(redis.call('HGET', job, 'chunks')) then
    redis.call('HSET', job, 'state', 'done')
    retire(P, id, tonumber(ARGV[9]))
end
return {'counted', unpack(progress(job))}
"""
)

# ARGV: prefix, group, entry id, job id, chunk, holder, MAX_STRIKES. Gives a chunk back (a new
# entry, unless done or over), only if `holder` still holds it: a page that lost it to another
# must not take it from that one; the holder's address earns a strike (it left holding it).
# An empty holder gives back an entry nobody here was handed (no room).
RELEASE = (
    STRIKE
    + """
local P, id = ARGV[1], ARGV[4]
local job = P .. 'job:' .. id
if ARGV[6] ~= '' then
    if redis.call('HGET', job .. ':holders', ARGV[5]) ~= ARGV[6] then return 0 end
    redis.call('HDEL', job .. ':holders', ARGV[5])
    strike(P, ARGV[6], 1, ARGV[7])
end
redis.call('XACK', P .. 'chunks', ARGV[2], ARGV[3])
redis.call('XDEL', P .. 'chunks', ARGV[3])
if redis.call('HGET', job, 'state') ~= 'running' then return 0 end
if redis.call('SISMEMBER', job .. ':done', ARGV[5]) == 1 then return 0 end
redis.call('XADD', P .. 'chunks', '*', 'job', id, 'chunk', ARGV[5])
return 1
"""
)

# ARGV: prefix, holder, change, MAX_STRIKES: add to (or take from) the holder's address's strikes.
STRIKES = STRIKE + "return strike(ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])"

# ARGV: prefix, job id, chunk, holder, this process, MAX_STRIKES. The chunk's entry was just
# read or claimed by this process for `holder`: from now on only `holder` may answer it.
# Returns the job's shape as Redis has it now (never a cached one: job ids start again from 1
# after Redis loses its data), or nothing when the chunk needs nobody (answered, over, gone).
# A holder on another process whose lease ran out (its process did not see it: the
# entry was claimed here) earns its address a strike; this process strikes its own pages.
HAND = (
    STRIKE
    + """
local job = ARGV[1] .. 'job:' .. ARGV[2]
if redis.call('HGET', job, 'state') ~= 'running' then return {} end
if redis.call('SISMEMBER', job .. ':done', ARGV[3]) == 1 then return {} end
local before = redis.call('HGET', job .. ':holders', ARGV[3])
if before and string.sub(before, 1, #ARGV[5] + 1) ~= ARGV[5] .. '/' then
    strike(ARGV[1], before, 1, ARGV[6])
end
redis.call('HSET', job .. ':holders', ARGV[3], ARGV[4])
return redis.call('HMGET', job, 'samples', 'chunk_samples', 'seed')
"""
)

# ARGV: prefix, job id, idle-since cutoff, keep seconds, started-before cutoff. Ends a job
# nobody answered for long, or one that started too long ago (`JobRules.max_seconds`).
EXPIRE = (
    RETIRE
    + """
local P, id = ARGV[1], ARGV[2]
local job = P .. 'job:' .. id
local score = redis.call('ZSCORE', P .. 'jobs:active', id)
if not score then return {} end
local born = tonumber(redis.call('ZSCORE', P .. 'jobs:born', id) or '0')
if tonumber(score) > tonumber(ARGV[3]) and born > tonumber(ARGV[5]) then return {} end
if redis.call('HGET', job, 'state') ~= 'running' then return {} end
redis.call('HSET', job, 'state', 'expired')
retire(P, id, tonumber(ARGV[4]))
return progress(job)
"""
)


#: The fields the Lua `progress` function reads, in its order: a job's shape, totals and state.
PROGRESS_FIELDS = ("samples", "chunk_samples", "seed", "inside", "samples_done", "chunks_done")


class Backoff:
    """Waits that double from BACKOFF_FIRST to BACKOFF_LAST while a loop keeps failing; logs the
    first failure of a run at warning and the rest at info (no log line per retry)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.failing = False

    def note(self, exc: BaseException, what: str) -> None:
        level = logging.INFO if self.failing else logging.WARNING
        log.log(level, "job engine: %s (%s); retrying with backoff", what, exc)
        self.failing = True

    async def wait(self) -> None:
        self.delay = min(max(self.delay * 2, BACKOFF_FIRST), BACKOFF_LAST)
        await asyncio.sleep(self.delay)

    def reset(self) -> None:
        if self.failing:
            log.warning("job engine: Redis answers again; reading chunks")
        self.delay, self.failing = 0.0, False


class RedisJobs:
    """`JobEngine` (see `server.engines`) on a Redis stream with a consumer group."""

    def __init__(self, link: RedisLink, hub: PageHub, rules: JobRules | None = None) -> None:
        """Raises ValueError for rules this engine cannot keep (replicas)."""
        rules = rules or JobRules()
        if rules.replicas != 1:
            raise ValueError("With Redis each chunk goes to one page: replicas must be 1.")
        self.link = link
        self.hub = hub
        self.rules = rules
        client = link.client
        self._start = client.register_script(START)
        self._complete = client.register_script(COMPLETE)
        self._release = client.register_script(RELEASE)
        self._expire = client.register_script(EXPIRE)
        self._hand = client.register_script(HAND)
        self._strikes = client.register_script(STRIKES)
        #: Local volunteers: page -> slots; what each holds: page -> {(job, chunk): entry id}.
        self.slots: dict[str, int] = {}
        self.held: dict[str, dict[tuple[str, int], str]] = {}
        #: Local page -> its client address; address -> strikes (as Redis last said).
        self.addresses: dict[str, str] = {}
        self.strikes: dict[str, int] = {}
        #: (page, job, chunk) -> when its lease runs out (monotonic); stale keys are skipped.
        self.due: dict[tuple[str, str, int], float] = {}
        #: Job shapes read from Redis; never trusted alone (see `_shape`).
        self._shapes: dict[str, JobShape] = {}
        self._room = asyncio.Event()
        self._turn = itertools.count()
        self.workers = 0

    @property
    def consumer(self) -> str:
        return self.link.process_id

    # ---- the interface --------------------------------------------------------------------

    async def start(
        self, key: str, samples: int, chunk_samples: int, seed: int, *, owner: str
    ) -> bool:
        """Start a job in Redis (every process's volunteers get its chunks); True for a resend."""
        chunks = chunk_count(samples, chunk_samples)
        owner = address_key(owner)
        args = [PREFIX, key, samples, chunk_samples, seed, chunks, owner, time.time()]
        answer = await self._call(self._start, [*args, MAX_ACTIVE_JOBS, self.rules.per_owner])
        verdict, job_id = answer[0], answer[1]
        if verdict == "all":
            raise too_many_jobs()
        if verdict == "owner":
            raise too_many_of_owner(self.rules)
        self.hub.broadcast(await self._progress_of(job_id))
        return bool(verdict == "duplicate")

    async def join(self, client_id: str, slots: int) -> None:
        """A local page volunteers; the feeder gives it chunks from the shared stream (fewer
        while its address has strikes, which leaving and joining again does not wipe)."""
        connection = self.hub.connections.get(client_id)
        address = address_key(connection.address) if connection is not None else ""
        self.addresses[client_id] = address
        with contextlib.suppress(RedisError, OSError):
            strikes: Any = await self.link.client.hget(PREFIX + "jobs:strikes", address)
            self.strikes[address] = int(strikes or 0)
        self.slots[client_id] = slots
        self.held.setdefault(client_id, {})
        self._room.set()

    async def leave(self, client_id: str) -> None:
        """A local page stops: its chunks go back to the stream for any process's pages."""
        self.slots.pop(client_id, None)
        holder = self._holder(client_id)
        self.addresses.pop(client_id, None)
        for (job_id, chunk), entry in self.held.pop(client_id, {}).items():
            args = [PREFIX, GROUP, entry, job_id, chunk, holder, MAX_STRIKES]
            with contextlib.suppress(StorageError):
                await self._call(self._release, args)
        self._room.set()

    async def complete(
        self, client_id: str, job_id: str, chunk: int, inside: int, samples: int
    ) -> bool:
        """Count a chunk answered by the page it was sent to, once; True for a duplicate."""
        for cached in (True, False):
            shape = await self._shape(job_id, cached)
            if shape is None:
                raise no_such_job(job_id)
            check_answer(shape, chunk, inside, samples)
            entry = self.held.get(client_id, {}).get((job_id, chunk))
            if entry is None:
                raise not_holder(job_id, chunk)
            args = [PREFIX, GROUP, entry, job_id, chunk, inside, samples, time.time()]
            keep, holder = int(self.rules.keep_seconds), self._holder(client_id)
            shown = [shape.samples, shape.chunk_samples, shape.seed, MAX_STRIKES]
            answer = await self._call(self._complete, [*args, keep, holder, *shown])
            verdict = answer[0]
            if verdict != "stale":
                break
            self._shapes.pop(job_id, None)  # read it again from Redis and check again
        else:
            raise no_such_job(job_id)
        # (The page may have left while Redis answered: then it is already forgotten.)
        self.held.get(client_id, {}).pop((job_id, chunk), None)
        self._room.set()
        if verdict == "gone":
            self._shapes.pop(job_id, None)
            raise no_such_job(job_id)
        if verdict == "expired":
            raise job_expired(job_id)
        if verdict == "not_holder":  # its lease ran out and another page took the chunk
            raise not_holder(job_id, chunk)
        if verdict == "counted":
            self.hub.broadcast(self._progress(job_id, answer[1:]))
            return False
        return True

    async def run(self) -> None:
        """Feed local volunteers from the stream, reclaim idle chunks, expire idle jobs.

        Each loop survives whatever Redis answers (a demotion to replica, a flush, an error
        it has never sent before): it logs, waits with backoff and starts again, so the engine
        heals once Redis is writable again and never needs a server restart.
        """
        await asyncio.gather(
            self._forever(self._feed), self._forever(self._reclaim), self._forever(self._sweep)
        )

    # ---- background work ------------------------------------------------------------------

    async def _forever(self, loop: Callable[[], Awaitable[None]]) -> None:
        backoff = Backoff()
        while True:
            try:
                await loop()
            except Exception:
                log.exception("job engine: %s failed; starting it again", loop.__name__)
                await backoff.wait()

    async def _create_group(self) -> None:
        """Make sure the consumer group exists (Redis may have lost it: a flush, a restart)."""
        backoff = Backoff()
        while True:
            try:
                await self.link.client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" in str(exc):
                    return
                backoff.note(exc, "could not create the consumer group")  # READONLY, OOM...
            except (RedisError, OSError) as exc:
                self.link.failed(exc)
            else:
                return
            await backoff.wait()

    def _allowance(self, client_id: str) -> int:
        strikes = self.strikes.get(self.addresses.get(client_id, ""), 0)
        return allowance(self.slots[client_id], strikes)

    def _free(self) -> int:
        return sum(max(0, self._allowance(c) - len(self.held.get(c, {}))) for c in self.slots)

    async def _feed(self) -> None:
        await self._create_group()
        backoff = Backoff()
        while True:
            if not self._free() or not self.link.up:
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._room.wait()
                continue
            try:
                replies: Any = await self.link.client.xreadgroup(
                    GROUP, self.consumer, {STREAM: ">"}, count=self._free(), block=READ_BLOCK_MS
                )
            except ResponseError as exc:
                # NOGROUP: Redis lost the group (flushed, restarted without data); UNBLOCKED:
                # the stream went while we waited on it (a flush) or Redis became a replica;
                # READONLY: it is a replica now. All heal: wait, make the group, read again.
                backoff.note(exc, "could not read chunks")
                self.link.failed(exc)
                await backoff.wait()
                await self._create_group()
                continue
            except (RedisError, OSError) as exc:
                self.link.failed(exc)
                await backoff.wait()
                continue
            backoff.reset()
            for _stream, entries in replies or []:
                for entry, fields in entries:
                    await self._assign(entry, fields)

    async def _reclaim(self) -> None:
        """Chunks pending longer than the lease (a dead process's, a slow page's) are taken over."""
        await self._create_group()
        cursor = "0-0"
        every = min(max(self.rules.lease_seconds / 4, 0.2), 5.0)
        while True:
            await asyncio.sleep(every)
            if not self.link.up:
                continue
            await self._lapse(time.monotonic())
            if not self._free():
                continue
            try:
                reply: Any = await self.link.client.xautoclaim(
                    STREAM,
                    GROUP,
                    self.consumer,
                    min_idle_time=int(self.rules.lease_seconds * 1000),
                    start_id=cursor,
                    count=self._free(),
                )
            except ResponseError as exc:  # a replica, a lost group: the feed recreates it
                log.info("job engine: could not reclaim chunks (%s)", exc)
                cursor = "0-0"
                continue
            except (RedisError, OSError) as exc:
                self.link.failed(exc)
                continue
            cursor = reply[0]
            for entry, fields in reply[1]:
                if fields:  # None for an entry deleted meanwhile
                    log.info("reclaiming chunk %s of %s (idle past its lease)", *fields.values())
                    await self._assign(entry, fields)

    async def _lapse(self, now: float) -> None:
        """Our pages' chunks held past their lease (shorter for an address with strikes) go
        back to the stream, and the address earns a strike (in RELEASE)."""
        for key, due in list(self.due.items()):
            if due > now:
                continue
            del self.due[key]
            client_id, job_id, chunk = key
            entry = self.held.get(client_id, {}).pop((job_id, chunk), None)
            if entry is None:
                continue
            log.info("client %s held chunk %d of %s too long; requeued", client_id, chunk, job_id)
            args = [PREFIX, GROUP, entry, job_id, chunk, self._holder(client_id), MAX_STRIKES]
            with contextlib.suppress(StorageError):
                await self._call(self._release, args)
                await self._strike(client_id, 0)  # read the address's strikes back
            self._room.set()

    async def _sweep(self) -> None:
        """Renew this process's volunteer count, total them, expire idle jobs, and give the
        chunks of dead processes back."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            if not self.link.up:
                continue
            try:
                await self._sweep_once()
                await self._requeue_the_dead()
            except ResponseError as exc:  # READONLY, OOM: the link still answers; try later
                log.info("job engine: could not sweep (%s)", exc)
                self.link.failed(exc)  # (says "refusing writes" for those two, once)
            except (RedisError, OSError) as exc:
                self.link.failed(exc)

    async def _sweep_once(self) -> None:
        client = self.link.client
        ttl = int(max(3.0, 3 * SWEEP_SECONDS) * 1000)
        await client.set(VOLUNTEERS + self.consumer, len(self.slots), px=ttl)
        processes: Any = await client.smembers(PREFIX + "processes")
        counts: Any = await client.mget([VOLUNTEERS + p for p in sorted(processes)])
        self.workers = max(len(self.slots), sum(int(n) for n in counts if n is not None))
        addresses = sorted(set(self.addresses.values()))
        if addresses:  # other processes' pages behind the same addresses strike them too
            strikes: Any = await client.hmget(PREFIX + "jobs:strikes", addresses)
            self.strikes = {a: int(n) for a, n in zip(addresses, strikes, strict=True) if n}
        now = time.time()
        cutoff, born = now - self.rules.idle_seconds, now - self.rules.max_seconds
        idle: Any = await client.zrangebyscore(PREFIX + "jobs:active", "-inf", cutoff)
        old: Any = await client.zrangebyscore(PREFIX + "jobs:born", "-inf", born)
        for job_id in dict.fromkeys([*idle, *old]):
            args = [PREFIX, job_id, cutoff, int(self.rules.keep_seconds), born]
            answer: Any = await self._expire(args=args)
            if answer:
                log.info("job %s was idle or too old; expired", job_id)
                self.hub.broadcast(self._progress(job_id, answer))

    async def _requeue_the_dead(self) -> None:
        """The chunks held by a process whose presence lapsed go back to the queue now.

        A process that died (kill -9: no goodbye) leaves its entries pending under its consumer
        name; waiting for the lease (XAUTOCLAIM in `_reclaim`) would stall its jobs for minutes.
        Its presence (`server.redis.hub`, renewed every second, gone within PRESENCE_TTL_MS)
        says sooner that its pages went with it: claim its entries here and hand them on
        (`_assign`: to a local page with room, else back to the stream for any process). Still
        counted once: HAND names the new holder, so an answer reaching the old one would be
        `not_holder`. Two live processes may both see the dead one: XCLAIM's idle bound lets
        only the first take an entry (claiming resets its idle time). A process cut off from
        Redis for longer than its presence lasts looks dead too; its pages' answers are then
        refused (`not_holder`) and the chunks computed again, never counted twice.
        """
        client = self.link.client
        consumers: Any = await client.xinfo_consumers(STREAM, GROUP)
        others = [c["name"] for c in consumers if c["name"] != self.consumer]
        if not others:
            return
        present: Any = await client.mget([PRESENCE + name for name in others])
        for name, alive in zip(others, present, strict=True):
            if alive is not None:
                continue
            pending: Any = await client.xpending_range(
                STREAM, GROUP, min="-", max="+", count=DEAD_CLAIM_COUNT, consumername=name
            )
            if not pending:  # nothing left: forget the name (its entries would go with it)
                await client.xgroup_delconsumer(STREAM, GROUP, name)
                continue
            ids = [p["message_id"] for p in pending]
            claimed: Any = await client.xclaim(
                STREAM, GROUP, self.consumer, min_idle_time=DEAD_IDLE_MS, message_ids=ids
            )
            log.info("process %s is gone; requeuing the %d chunks it held", name, len(claimed))
            for entry, fields in claimed:
                if fields:  # None for an entry deleted meanwhile
                    await self._assign(entry, fields)

    async def _assign(self, entry: str, fields: dict[str, str]) -> None:
        """Hand one stream entry to a local volunteer with room, or give it back."""
        job_id, chunk = fields["job"], int(fields["chunk"])
        # Claimed back from a page of ours holding it (the same entry): its lease ran out. It
        # loses the chunk, is not given it again, and its address earns a strike.
        lapsed = [c for c, held in self.held.items() if held.get((job_id, chunk)) == entry]
        for client_id in lapsed:
            del self.held[client_id][(job_id, chunk)]
            await self._strike(client_id, 1)
        free = [
            c
            for c in self.slots
            if len(self.held.get(c, {})) < self._allowance(c)
            and (job_id, chunk) not in self.held.get(c, {})
            and c not in lapsed
        ]
        if not free:
            with contextlib.suppress(StorageError):
                await self._call(self._release, [PREFIX, GROUP, entry, job_id, chunk, ""])
            return
        client_id = free[next(self._turn) % len(free)]
        holder = self._holder(client_id)
        try:
            args = [PREFIX, job_id, chunk, holder, self.consumer, MAX_STRIKES]
            handed = await self._call(self._hand, args)
        except StorageError:
            return  # still pending: reclaimed once idle for the lease
        if not handed:  # answered, or the job is over or forgotten: the entry is a leftover
            with contextlib.suppress(RedisError, OSError):
                await self.link.client.xack(STREAM, GROUP, entry)
                await self.link.client.xdel(STREAM, entry)
            return
        shape = self._remember(JobShape(job_id, *(int(f) for f in handed)))
        # A local page that held it before lost it when its lease ran out: free its slot.
        for held in self.held.values():
            held.pop((job_id, chunk), None)
        message = shape.chunk_message(chunk)
        self.held[client_id][(job_id, chunk)] = entry
        strikes = self.strikes.get(self.addresses.get(client_id, ""), 0)
        lease = lease_for(self.rules.lease_seconds, strikes)
        self.due[(client_id, job_id, chunk)] = time.monotonic() + lease
        target = self.hub.connections.get(client_id)
        if target is None or not target.send(message):
            await self.leave(client_id)

    # ---- helpers --------------------------------------------------------------------------

    def _holder(self, client_id: str) -> str:
        """A page as the chunk's holder in Redis: unique across the processes sharing it, and
        naming the page's address (what strikes are counted by)."""
        return f"{self.consumer}/{client_id}@{self.addresses.get(client_id, '')}"

    async def _strike(self, client_id: str, change: int) -> None:
        """Add to (or take from) the strikes of a local page's address."""
        address = self.addresses.get(client_id)
        if not address:
            return
        args = [PREFIX, self._holder(client_id), change, MAX_STRIKES]
        with contextlib.suppress(StorageError):
            self.strikes[address] = int(await self._call(self._strikes, args))

    async def _call(self, script: Any, args: list[Any]) -> Any:
        if not self.link.up:
            raise StorageError("Redis is unreachable: the job message was not taken; resend it.")
        if self.link.refusing:
            raise refused(self.link.refusing)
        try:
            return await script(args=args)
        except (RedisError, OSError) as exc:
            self.link.failed(exc)
            if self.link.refusing:
                raise refused(self.link.refusing) from None
            raise StorageError(f"Redis did not answer ({exc}): resend the message.") from None

    async def _shape(self, job_id: str, cached: bool = True) -> JobShape | None:
        """The job's shape: from the cache (COMPLETE and HAND check it against Redis) or Redis."""
        if cached and job_id in self._shapes:
            return self._shapes[job_id]
        try:
            fields: Any = await self.link.client.hmget(
                PREFIX + "job:" + job_id, ["samples", "chunk_samples", "seed"]
            )
        except (RedisError, OSError) as exc:
            self.link.failed(exc)
            raise StorageError(f"Redis did not answer ({exc}): resend the message.") from None
        if fields[0] is None:
            self._shapes.pop(job_id, None)
            return None
        return self._remember(JobShape(job_id, *(int(f) for f in fields)))

    def _remember(self, shape: JobShape) -> JobShape:
        # Bounded: a few jobs run at once (MAX_ACTIVE_JOBS); a miss only costs one HMGET.
        if len(self._shapes) >= SHAPE_CACHE and shape.id not in self._shapes:
            self._shapes.pop(next(iter(self._shapes)))
        self._shapes[shape.id] = shape
        return shape

    async def _progress_of(self, job_id: str) -> JobProgressMessage:
        fields: Any = await self.link.client.hmget(
            PREFIX + "job:" + job_id, [*PROGRESS_FIELDS, "state"]
        )
        return self._progress(job_id, fields)

    def _progress(self, job_id: str, fields: list[Any]) -> JobProgressMessage:
        """`job_progress` from the job hash's PROGRESS_FIELDS and state (as Lua's `progress`)."""
        samples, chunk_samples, seed, inside, samples_done, chunks_done = (
            int(f or 0) for f in fields[:6]
        )
        state = fields[6]
        return progress(
            # A job whose hash is gone meanwhile reads as zeros: 0 chunks, not a division by 0.
            JobShape(job_id, samples, max(chunk_samples, 1), seed),
            Totals(inside, samples_done, chunks_done, state == "done", state == "expired"),
            workers=max(self.workers, len(self.slots)),
        )
