"""The hub across processes: broadcasts over Redis pub/sub, presence as expiring entries.

A broadcast is delivered to this process's pages at once and published for the other
processes, which deliver it to theirs (a process ignores its own publications). Pub/sub is
at-most-once: a process that is cut off misses broadcasts meanwhile, which is why nothing that
must not be lost travels only this way (results are in the store, chunks in a stream).

Presence: each process keeps `offload:presence:<process>` = its page count, expiring after
PRESENCE_TTL and renewed every PRESENCE_EVERY, and lists itself in `offload:processes`. The
global count is the sum of the entries that still exist, so a process that crashed (no goodbye)
drops out of everyone's count within PRESENCE_TTL. Changes are coalesced for PRESENCE_DEBOUNCE,
so a storm of connects costs one announcement, not one per page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.exceptions import RedisError

from server.hub import Connection, Hub, encode_or_log
from server.protocol import Message, PeersMessage, ServerStatusMessage, encode
from server.redis.link import BACKOFF_LAST, PREFIX, PROBE_SECONDS, RedisLink

log = logging.getLogger(__name__)

CHANNEL = PREFIX + "broadcast"
PRESENCE = PREFIX + "presence:"
PROCESSES = PREFIX + "processes"
PRESENCE_TTL_MS = 3000
PRESENCE_EVERY = 1.0
PRESENCE_DEBOUNCE = 0.05
#: Broadcasts waiting to be published at most; beyond it (Redis too slow) they are dropped.
OUTBOX_SIZE = 10_000
#: Envelope kinds: a message for pages, or "a process's page count changed".
MESSAGE, PRESENCE_CHANGED = "m", "p"

DOWN = "The shared store (Redis) is unreachable: results wait on your page until it is back."
REFUSING = "{}: results wait on your page until the server says it takes writes again."
UP = "The shared store (Redis) is back: everything works again."


class RedisHub(Hub):
    """`Hub` whose broadcasts and peer count span every process on the same Redis."""

    def __init__(self, link: RedisLink) -> None:
        super().__init__()
        self.link = link
        self.total = 0
        #: Browser tabs behind every process's connections (a shared worker carries several).
        self.total_tabs = 0
        self._announced: tuple[int, int] | None = None
        #: The status pages were last told (a change of it is announced once, not per failure).
        self._status = ServerStatusMessage(ok=True, message=UP)
        self._published_count: str | None = None
        self._dirty = asyncio.Event()
        self._up = asyncio.Event()
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        link.listen(self._health)

    def __len__(self) -> int:
        """Pages connected to every process (this one's own count while Redis is away)."""
        return self.total if self.link.up else len(self.connections)

    async def start(self) -> None:
        """Subscribe, and start publishing and keeping presence (the link is started)."""
        if self.link.up:
            self._up.set()
        self._tasks = [
            asyncio.create_task(self._subscribe(), name="redis-hub-subscribe"),
            asyncio.create_task(self._publish(), name="redis-hub-publish"),
            asyncio.create_task(self._presence(), name="redis-hub-presence"),
        ]
        self._dirty.set()

    async def stop(self) -> None:
        """Stop the background tasks and withdraw this process's presence."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(RedisError, OSError):
            async with self.link.client.pipeline(transaction=False) as pipe:
                pipe.delete(PRESENCE + self.link.process_id)
                pipe.srem(PROCESSES, self.link.process_id)
                pipe.publish(CHANNEL, self._envelope(PRESENCE_CHANGED, None, ""))
                await pipe.execute()

    def add(self, connection: Connection) -> None:
        """Register a page; while Redis is away it hears so right after `hello`."""
        super().add(connection)
        if not self.link.writable:
            connection.send(self.status())

    def broadcast(self, message: Message, exclude: str | None = None) -> int:
        """Deliver to this process's pages now and publish for the others'."""
        text = encode_or_log(message)
        if text is None:
            return 0
        if self.link.up:
            try:
                self._outbox.put_nowait(self._envelope(MESSAGE, exclude, text))
            except asyncio.QueueFull:
                log.warning("dropping a broadcast: Redis is not keeping up")
        return self.deliver(text, exclude)

    def announce_peers(self) -> None:
        """A page came or went here: recount (debounced) and tell everyone."""
        self._dirty.set()

    def _envelope(self, kind: str, exclude: str | None, text: str) -> str:
        return f"{self.link.process_id}\n{kind}\n{exclude or ''}\n{text}"

    def _received(self, envelope: str) -> None:
        origin, kind, exclude, text = envelope.split("\n", 3)
        if origin == self.link.process_id:
            return
        if kind == MESSAGE:
            self.deliver(text, exclude or None)
        elif kind == PRESENCE_CHANGED:
            self._dirty.set()

    def _health(self) -> None:
        if self.link.up and not self._up.is_set():
            self._up.set()
            self._published_count = None  # re-register: our entry may have expired meanwhile
        elif not self.link.up:
            self._up.clear()
        self._dirty.set()
        status = self.status()
        if status != self._status:
            self._status = status
            self.deliver(encode(status))

    def status(self) -> ServerStatusMessage:
        """What is true of the shared store now, as pages are told."""
        if not self.link.up:
            return ServerStatusMessage(ok=False, message=DOWN, retry_after=BACKOFF_LAST)
        if self.link.refusing:
            message = REFUSING.format(self.link.refusing)
            return ServerStatusMessage(ok=False, message=message, retry_after=PROBE_SECONDS)
        return ServerStatusMessage(ok=True, message=UP)

    async def _subscribe(self) -> None:
        while True:
            await self._up.wait()
            pubsub = self.link.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        self._received(item["data"])
            except (RedisError, OSError) as exc:
                self.link.failed(exc)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            await asyncio.sleep(0.1)

    async def _publish(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 500:
                batch.append(self._outbox.get_nowait())
            if not self.link.up:
                continue  # at-most-once: the local pages already have it
            try:
                if len(batch) == 1:
                    await self.link.client.publish(CHANNEL, batch[0])
                else:
                    async with self.link.client.pipeline(transaction=False) as pipe:
                        for envelope in batch:
                            pipe.publish(CHANNEL, envelope)
                        await pipe.execute()
            except (RedisError, OSError) as exc:
                self.link.failed(exc)

    async def _presence(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PRESENCE_EVERY):
                    await self._dirty.wait()
                await asyncio.sleep(PRESENCE_DEBOUNCE)
            self._dirty.clear()
            if self.link.up:
                try:
                    self.total, self.total_tabs = await self._recount()
                except (RedisError, OSError) as exc:
                    self.link.failed(exc)
            connections, tabs = len(self), self.tabs()
            if (connections, tabs) != self._announced:
                self._announced = (connections, tabs)
                peers = PeersMessage(connections=connections, tabs=tabs)
                self.deliver(encode(peers))

    def tabs(self) -> int:
        """Tabs behind every process's pages (this process's own while Redis is away)."""
        if self.link.up:
            return self.total_tabs
        return sum(connection.tabs for connection in self.connections.values())

    async def _recount(self) -> tuple[int, int]:
        """Renew this process's entry ("connections tabs") and add up every live process's."""
        tabs = sum(connection.tabs for connection in self.connections.values())
        mine = f"{len(self.connections)} {tabs}"
        client = self.link.client
        async with client.pipeline(transaction=False) as pipe:
            pipe.set(PRESENCE + self.link.process_id, mine, px=PRESENCE_TTL_MS)
            pipe.sadd(PROCESSES, self.link.process_id)
            pipe.smembers(PROCESSES)
            replies: list[Any] = await pipe.execute()
        processes = sorted(replies[2])
        counts: list[Any] = await client.mget([PRESENCE + p for p in processes])
        gone = [p for p, n in zip(processes, counts, strict=True) if n is None]
        if gone:
            await client.srem(PROCESSES, *gone)
        if mine != self._published_count:
            self._published_count = mine
            await client.publish(CHANNEL, self._envelope(PRESENCE_CHANGED, None, ""))
        entries = [str(n.decode() if isinstance(n, bytes) else n).split() for n in counts if n]
        return sum(int(e[0]) for e in entries), sum(int(e[-1]) for e in entries)
