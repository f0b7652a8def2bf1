"""The seams between the socket layer and what keeps state: small interfaces, two engines each.

The default engine is one process: the in-process hub (`server.hub`), the SQLite store
(`server.store`) and the in-memory job board (`server.jobs`); nothing extra to install. With
`--redis URL` the same interfaces are backed by Redis (`server.redis_*`), so several processes
share broadcasts, presence, results and distributed jobs. The socket layer (`websocket.py`,
`api.py`) only ever sees the interfaces below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from server.protocol import ResultMessage, StoredResult


class StorageError(Exception):
    """A write could not be made durable (disk full, a foreign schema, the store unreachable).

    Nothing was acknowledged: the client keeps the message and may send it again later, so the
    socket layer answers an `error` with `name` (retryable) instead of dropping the connection.
    The message is one sentence a person can act on.
    """

    name = "storage_unavailable"


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
