"""One process's link to Redis: the client, whether Redis answers now, and what an ack promises.

Every Redis-backed engine (`store`, `hub`, `jobs` beside this module) shares one `RedisLink`.
A watcher pings Redis; when Redis goes away the link says so at once (listeners are told, so
pages hear a `server` status message and new results are refused as retryable), then tries
again with exponential backoff until Redis answers, and tells the listeners again. The server
never exits because Redis went away: pages stay connected throughout.

Redis can also answer and refuse writes: full (`maxmemory` with `noeviction`: OOM) or a replica
(READONLY). The link then says `refusing` and holds that state until a cheap probe write
succeeds: writes are refused here at once (no command sent), and the status changes twice in
all, not once per refused write, so pages are not told "ok" only to be refused again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import OutOfMemoryError, ReadOnlyError, RedisError, ResponseError

from server.engines import StorageError, StorageFull

log = logging.getLogger(__name__)

#: How often a healthy link checks Redis; how long a command may take before it counts as down.
WATCH_SECONDS = 0.5
COMMAND_TIMEOUT = 2.0
#: Reconnect backoff, doubling from the first to the last.
BACKOFF_FIRST = 0.1
BACKOFF_LAST = 3.0
#: Every key this server writes starts with this, so one Redis can hold other data too.
PREFIX = "offload:"
#: While Redis refuses writes, a probe write every this many seconds; pages are told to wait
#: about as long before they send again (they are also told when writes work again).
PROBE_SECONDS = 2.0
FULL = "Redis is full (maxmemory)"
READ_ONLY = "Redis is a read-only replica"


def refusal(exc: BaseException) -> str | None:
    """Why Redis refused a write (FULL, READ_ONLY), or None for any other error.

    By type, and by text for the same errors met inside a Lua script or a pipeline, which
    redis-py may raise as a plain ResponseError with Redis's words in it.
    """
    text = str(exc)
    if isinstance(exc, OutOfMemoryError) or "used memory > 'maxmemory'" in text:
        return FULL
    if isinstance(exc, ReadOnlyError) or "read only replica" in text:
        return READ_ONLY
    return None


def refused(reason: str) -> StorageFull:
    """A write refused while Redis refuses writes: the page keeps the result and waits."""
    return StorageFull(
        f"{reason}, so the result was not stored: it stays on your page and is sent again "
        f"when the server says the store takes writes (checked every {PROBE_SECONDS:g} s)."
    )


class RedisLink:
    """The shared client and its health. `await start()` once; `await close()` at shutdown."""

    def __init__(self, url: str) -> None:
        self.url = url
        # A short retry inside the client rides out a blip; anything longer is the watcher's
        # job, so a command fails within seconds and its result is refused, not held.
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=COMMAND_TIMEOUT,
            socket_connect_timeout=COMMAND_TIMEOUT,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
        )
        #: This process among the others sharing the Redis (presence, job consumers).
        self.process_id = secrets.token_hex(6)
        self.up = False
        #: Why Redis refuses writes while it answers (FULL, READ_ONLY), or None.
        self.refusing: str | None = None
        #: True when Redis fsyncs every write before answering (AOF, appendfsync always).
        self.durable = False
        self.durability = "not yet known"
        self._listeners: list[Callable[[], None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener()` whenever `up` or `refusing` changes."""
        self._listeners.append(listener)

    @property
    def writable(self) -> bool:
        """Redis answers and takes writes (as far as the link knows)."""
        return self.up and self.refusing is None

    async def start(self) -> None:
        """Check that Redis answers and read what its persistence promises.

        Raises:
            StorageError: Redis does not answer at `url` (one sentence).
        """
        try:
            await self.client.ping()
        except RedisError as exc:
            raise StorageError(
                f"Redis does not answer at {self.url} ({exc}): start redis-server "
                "or fix --redis / OFFLOAD_REDIS_URL."
            ) from None
        self.durable, self.durability = await self.read_persistence()
        self.up = True
        self._watcher = asyncio.create_task(self._watch(), name="redis-watch")

    async def read_persistence(self) -> tuple[bool, str]:
        """Whether an acknowledged write survives a Redis crash, and a sentence saying why."""
        try:
            config = await self.client.config_get("appendonly")
            config.update(await self.client.config_get("appendfsync"))
            config.update(await self.client.config_get("save"))
        except ResponseError as exc:  # CONFIG renamed or forbidden (managed Redis)
            return False, f"Redis does not let us read its persistence settings ({exc})"
        if config.get("appendonly") == "yes" and config.get("appendfsync") == "always":
            return True, (
                "Redis writes and fsyncs its AOF before answering (appendfsync always): "
                "an acknowledged result survives a crash of Redis or of its machine"
            )
        if config.get("appendonly") == "yes":
            return False, (
                f"Redis fsyncs its AOF {config.get('appendfsync')!r}, not 'always': a crash of "
                "Redis's machine can lose the last second of acknowledged results"
            )
        return False, (
            "Redis keeps no AOF (appendonly no"
            + (f", snapshots at save {config['save']!r}" if config.get("save") else "")
            + "): a crash of Redis loses results acknowledged since its last snapshot"
        )

    def failed(self, exc: BaseException) -> None:
        """An engine's command failed: Redis refuses writes (OOM, READONLY) until a probe write
        succeeds, or is down (the connection failed) until the watcher sees it again; any other
        error Redis answered with says nothing about its health."""
        if isinstance(exc, ResponseError):
            reason = refusal(exc)
            if reason is not None and self.refusing is None:
                log.warning("%s: refusing writes until a probe write succeeds (%s)", reason, exc)
                self.refusing = reason
                self._changed()
            return
        if self.up:
            log.warning("Redis at %s went away (%s); retrying with backoff", self.url, exc)
            self._set(False)
            self._wake.set()

    def _set(self, up: bool) -> None:
        self.up = up
        self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a Redis health listener failed")

    async def _watch(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            wait = delay if not self.up else PROBE_SECONDS if self.refusing else WATCH_SECONDS
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()
            try:
                async with asyncio.timeout(COMMAND_TIMEOUT):
                    if self.refusing:
                        await self._probe()
                    else:
                        await self.client.ping()
            except (RedisError, OSError, TimeoutError) as exc:
                if self.up:
                    log.warning("Redis at %s went away (%s); retrying with backoff", self.url, exc)
                    self._set(False)
                delay = min(delay * 2, BACKOFF_LAST)
                continue
            if not self.up:
                log.warning("Redis at %s answers again", self.url)
                self._set(True)
            delay = BACKOFF_FIRST

    async def _probe(self) -> None:
        """One small write: clears `refusing` when Redis takes it; a refusal leaves it set."""
        try:
            await self.client.set(PREFIX + "probe:" + self.process_id, 1, px=10_000)
        except ResponseError as exc:
            if refusal(exc) is not None:
                return
            raise
        log.warning("Redis at %s takes writes again", self.url)
        self.refusing = None
        self._changed()

    async def close(self) -> None:
        """Stop watching and close the client's connections."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.client.aclose()
