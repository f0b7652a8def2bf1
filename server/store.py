"""Results, kept in SQLite (WAL) in the data folder; each result id is stored once.

sqlite3 blocks, so every call runs on one dedicated thread: the event loop never waits on the
disk, and the single thread serializes access without locks.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from server.protocol import ResultMessage, StoredResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    task TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    received_at REAL NOT NULL
)
"""


class Store:
    """The results database. Open with `await Store.open(folder)`; `await close()` flushes it."""

    FILENAME = "offload.sqlite3"

    def __init__(self, path: Path, executor: ThreadPoolExecutor, db: sqlite3.Connection) -> None:
        self.path = path
        self._executor = executor
        self._db = db

    @classmethod
    async def open(cls, folder: Path) -> Store:
        """Create the folder and database if needed and open it."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        path = folder / cls.FILENAME

        def connect() -> sqlite3.Connection:
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a result is acked only after its commit is fsynced, so "acked" means "kept"
            # even if the machine, not just the server, goes down.
            db.execute("PRAGMA synchronous=FULL")
            db.execute(SCHEMA)
            return db

        db = await asyncio.get_running_loop().run_in_executor(executor, connect)
        return cls(path, executor, db)

    async def _run[T](self, fn: Any, *args: Any) -> T:
        result: T = await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        return result

    async def add(self, client_id: str, message: ResultMessage) -> StoredResult | None:
        """Store a result; returns it as stored, or None when its id was already stored."""
        stored = StoredResult(
            id=message.id,
            client_id=client_id,
            task=message.task,
            params=message.params,
            result=message.result,
            duration_ms=message.duration_ms,
            received_at=time.time(),
        )
        row = (
            stored.id,
            stored.client_id,
            stored.task,
            json.dumps(stored.params),
            json.dumps(stored.result),
            stored.duration_ms,
            stored.received_at,
        )

        def insert() -> int:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO results"
                " (id, client_id, task, params, result, duration_ms, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return cursor.rowcount

        inserted: int = await self._run(insert)
        return stored if inserted else None

    async def recent(self, limit: int) -> list[StoredResult]:
        """The newest `limit` results, newest first."""

        def select() -> list[tuple[Any, ...]]:
            return self._db.execute(
                "SELECT id, client_id, task, params, result, duration_ms, received_at"
                " FROM results ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()

        rows: list[tuple[Any, ...]] = await self._run(select)
        return [
            StoredResult(
                id=r[0],
                client_id=r[1],
                task=r[2],
                params=json.loads(r[3]),
                result=json.loads(r[4]),
                duration_ms=r[5],
                received_at=r[6],
            )
            for r in rows
        ]

    async def close(self) -> None:
        """Checkpoint the WAL into the main file and close (the shutdown flush)."""

        def finish() -> None:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

        await self._run(finish)
        self._executor.shutdown(wait=True)
