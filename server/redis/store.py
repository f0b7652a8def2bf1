"""Results in Redis, shared by every process: each id stored once, acked after Redis accepted it.

Keys (under `offload:`): `result:<id>` holds a result's JSON; the sorted set `results` orders the
ids by a sequence number (the `/api/results` cursor); `results:bytes` counts what they take, for
the budget. One Lua script stores a result and applies the budget atomically, so two processes
adding the same id at once store it once. Results added at the same moment go to Redis as one
pipeline (group commit, `server.batcher`): with `appendfsync always` Redis fsyncs once per
round of commands, so a pipeline costs one fsync, not one per result.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError

from server.batcher import MAX_BATCH, Batcher
from server.engines import (
    DEFAULT_BUDGET_BYTES,
    ResultsPage,
    StorageError,
    StorageFacts,
    stored_result,
)
from server.protocol import ResultMessage, StoredResult
from server.redis.link import PREFIX, RedisLink, refused

log = logging.getLogger(__name__)

RESULT = PREFIX + "result:"
ORDER = PREFIX + "results"
SEQUENCE = PREFIX + "results:seq"
BYTES = PREFIX + "results:bytes"

# KEYS: the result's key, the order, the sequence, the byte count.
# ARGV: the JSON, the id, the budget, the result key prefix. Returns the new sequence number,
# or 0 when the id was already stored. The keys of old results it deletes are derived from the
# prefix (fine on one Redis; a Redis Cluster would need them declared).
ADD = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], seq, ARGV[2])
local total = redis.call('INCRBY', KEYS[4], string.len(ARGV[1]))
local budget = tonumber(ARGV[3])
while total > budget do
    local oldest = redis.call('ZPOPMIN', KEYS[2])
    if #oldest == 0 then break end
    local key = ARGV[4] .. oldest[1]
    local size = redis.call('STRLEN', key)
    redis.call('DEL', key)
    total = redis.call('DECRBY', KEYS[4], size)
end
return seq
"""


class RedisStore:
    """`ResultStore` on Redis (see `server.engines`)."""

    def __init__(
        self, link: RedisLink, budget_bytes: int = DEFAULT_BUDGET_BYTES, max_batch: int = MAX_BATCH
    ) -> None:
        self.link = link
        self.budget_bytes = budget_bytes
        self._add = link.client.register_script(ADD)
        self._batcher = Batcher[StoredResult, bool](
            self._commit, max_batch, fail=self._error, name="redis-group-commit"
        )

    @property
    def facts(self) -> StorageFacts:
        """The budget, and what Redis's persistence settings (read at start) promise."""
        return StorageFacts(self.budget_bytes, self.link.durable, self.link.durability)

    @property
    def commits(self) -> int:
        """Pipelines sent so far (each one batch of results)."""
        return self._batcher.commits

    async def add(self, client_id: str, message: ResultMessage) -> StoredResult | None:
        """Store a result once by id; returns None for an id already stored.

        Raises:
            StorageError: Redis is unreachable or refused the write (nothing was acked).
        """
        if not self.link.up:
            raise StorageError(
                "Redis is unreachable, so the result was not stored: it will be sent again."
            )
        if self.link.refusing:
            raise refused(self.link.refusing)
        stored = stored_result(client_id, message)
        inserted = await self._batcher.submit(stored)
        return stored if inserted else None

    async def _commit(self, batch: list[StoredResult]) -> list[bool]:
        async with self.link.client.pipeline(transaction=False) as pipe:
            for stored in batch:
                await self._add(
                    keys=[RESULT + stored.id, ORDER, SEQUENCE, BYTES],
                    args=[stored.model_dump_json(), stored.id, self.budget_bytes, RESULT],
                    client=pipe,
                )
            answers: list[Any] = await pipe.execute()
        return [int(seq) > 0 for seq in answers]

    def _error(self, exc: Exception) -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        if isinstance(exc, RedisError | OSError):
            self.link.failed(exc)
            if self.link.refusing:
                return refused(self.link.refusing)  # the link logged it, once
        log.error("storing results in Redis failed: %s", exc)
        return StorageError(f"Redis did not store the result ({exc}): it will be sent again.")

    async def page(self, limit: int, before: int | None = None) -> ResultsPage:
        """Up to `limit` results older than the cursor `before`, newest first.

        Raises:
            StorageError: Redis is unreachable.
        """
        top = f"({before}" if before is not None else "+inf"
        try:
            raw: Any = await self.link.client.zrevrangebyscore(
                ORDER, top, "-inf", start=0, num=limit + 1, withscores=True
            )
            ranked = [(str(rid), float(seq)) for rid, seq in raw]
            texts: Any = (
                await self.link.client.mget([RESULT + rid for rid, _ in ranked[:limit]])
                if ranked
                else []
            )
        except (RedisError, OSError) as exc:
            self.link.failed(exc)
            raise StorageError(f"Redis is unreachable ({exc}): try again shortly.") from None
        results = []
        for text in texts:
            if text is None:  # deleted by the budget between the two reads
                continue
            try:
                results.append(StoredResult.model_validate_json(text))
            except ValueError as exc:
                log.warning("skipping a stored result that does not decode (%s)", exc)
        more = len(ranked) > limit
        return ResultsPage(results, int(ranked[limit - 1][1]) if more and limit else None)

    async def recent(self, limit: int) -> list[StoredResult]:
        """The newest `limit` results, newest first."""
        return (await self.page(limit)).results

    async def close(self) -> None:
        """Wait for the writes in flight (the link is closed by its owner)."""
        await self._batcher.drain()
