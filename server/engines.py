"""The seams between the socket layer and what keeps state: small interfaces, two engines each.

The default engine is one process: the in-process hub (`server.hub`), the SQLite store
(`server.store`) and the in-memory job board (`server.local_jobs`); nothing extra to install.
With `--redis URL` the same interfaces are backed by Redis (`server.redis`), so several
processes share broadcasts, presence, results and distributed jobs. `server.app` chooses once,
at startup; the socket layer (`websocket.py`, `api.py`) only ever sees the interfaces below.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from server.protocol import Message, ResultMessage, StoredResult

if TYPE_CHECKING:
    from server.hub import Connection


class PageHub(Protocol):
    """The connected pages: this process's connections, and broadcast to every page.

    `server.hub.Hub` (one process) and `server.redis.hub.RedisHub` (every process on a Redis)
    implement it; a broadcast reaches the pages of every process, `len()` counts them all.
    """

    #: This process's open connections, by client id (only these can be sent to directly).
    connections: dict[str, Connection]

    def __len__(self) -> int:
        """Pages connected (to every process sharing the hub)."""
        ...

    def add(self, connection: Connection) -> None:
        """Register a connection and let everyone know the new peer count."""
        ...

    def remove(self, connection: Connection) -> None:
        """Forget a connection and let the rest know the new peer count."""
        ...

    def broadcast(self, message: Message, exclude: str | None = None) -> int:
        """Send `message` to every page but `exclude`; returns how many of this process's."""
        ...

    def announce_peers(self) -> None:
        """Let every page know the peer counts soon (a connection's tab count changed)."""
        ...

    async def close_all(self, code: int, reason: str) -> None:
        """Close this process's connections (shutdown)."""
        ...


#: Every store's default budget: beyond it, the oldest results are deleted first.
DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024


class StorageError(Exception):
    """A write could not be made durable (disk full, a foreign schema, the store unreachable).

    Nothing was acknowledged: the client keeps the message and may send it again later, so the
    socket layer answers an `error` with `name` (retryable) instead of dropping the connection.
    The message is one sentence a person can act on.
    """

    name = "storage_unavailable"


class StorageFull(StorageError):
    """The store answers but refuses writes (Redis full or a read-only replica): retry later.

    One name for every such refusal, so a page can tell it from the store being away; the
    server's `server` status message says when writes work again.
    """

    name = "storage_full"


@dataclass(frozen=True)
class ResultsPage:
    """Some stored results, newest first, and the cursor of the next (older) page, if any."""

    results: list[StoredResult]
    #: Pass as `before` to get the next page; None when this page reaches the oldest result.
    next_before: int | None


@dataclass(frozen=True)
class StorageFacts:
    """What a store promises, for the log and for `hello`'s limits."""

    #: Oldest results are deleted once the stored results take more than this many bytes.
    budget_bytes: int
    #: True when an acknowledged result survives a crash of the machine holding the store.
    durable: bool
    #: One sentence on why (or why not), for the log.
    durability: str


class ResultStore(Protocol):
    """Results by id: each id stored once; `add` returns only after the write is durable."""

    @property
    def facts(self) -> StorageFacts:
        """The store's budget and durability."""
        ...

    async def add(self, client_id: str, message: ResultMessage) -> StoredResult | None:
        """Store a result; returns it as stored, or None when its id was already stored.

        Raises:
            StorageError: the result could not be stored durably (it was not acknowledged).
        """
        ...

    async def page(self, limit: int, before: int | None = None) -> ResultsPage:
        """Up to `limit` results older than the cursor `before` (None: the newest), newest first."""
        ...

    async def recent(self, limit: int) -> list[StoredResult]:
        """The newest `limit` results, newest first."""
        ...

    async def close(self) -> None:
        """Flush and release the store."""
        ...


class JobEngine(Protocol):
    """Distributed jobs: chunks handed to volunteer pages, results counted once.

    The engine delivers what it decides itself (chunks to pages, progress to everyone, through
    the hub), since with Redis chunks also arrive from other processes at any time.
    Refusals raise `server.job_rules.JobRefused` (its `name` is the error's kind).
    """

    async def start(
        self, key: str, samples: int, chunk_samples: int, seed: int, *, owner: str
    ) -> bool:
        """Start a job (`key` is the `job_start` id); returns True for a resend of a started one.

        Raises:
            JobRefused: too many chunks or jobs.
            StorageError: the shared state is unreachable (retryable).
        """
        ...

    async def join(self, client_id: str, slots: int) -> None:
        """A page on this process volunteers for up to `slots` chunks at a time."""
        ...

    async def leave(self, client_id: str) -> None:
        """A page stops volunteering or disconnected: its chunks go to others."""
        ...

    async def complete(
        self, client_id: str, job_id: str, chunk: int, inside: int, samples: int
    ) -> bool:
        """Count a chunk answered by the page holding it; returns True for a duplicate.

        Raises:
            JobRefused: not the holder, an unknown chunk, an implausible answer.
            StorageError: the shared state is unreachable (retryable).
        """
        ...

    async def run(self) -> None:
        """The background work (lease expiry, reclaiming, feeding pages), until cancelled."""
        ...


@dataclass(frozen=True)
class Engines:
    """The three engines a server runs on, all of one kind (`server.app.open_engines` picks it)."""

    hub: PageHub
    store: ResultStore
    jobs: JobEngine


def stored_result(client_id: str, message: ResultMessage) -> StoredResult:
    """A `result` message as every store keeps it: with its sender and the time it arrived."""
    # model_construct: every field comes from a message pydantic has already validated (params
    # and result are JSON values checked at the door); validating them again would walk a large
    # result twice on the path every ack waits for.
    return StoredResult.model_construct(
        id=message.id,
        client_id=client_id,
        task=message.task,
        params=message.params,
        result=message.result,
        duration_ms=message.duration_ms,
        received_at=time.time(),
    )
