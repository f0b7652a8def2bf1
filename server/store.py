"""Results, kept in SQLite (WAL) in the data folder; each result id is stored once.

sqlite3 blocks, so every call runs on one dedicated thread: the event loop never waits on the
disk, and the single thread serializes access without locks.

Group commit (`server.batcher`): with `synchronous=FULL` each commit waits for an fsync, a few
milliseconds on an ordinary disk, so one commit per result caps a server at a few hundred acks a
second however many pages send. Results that arrive while a batch is being written are written
together as the next transaction (one fsync), and each `add` returns once its own batch is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic_core import to_json

from server.batcher import MAX_BATCH, Batcher
from server.engines import (
    DEFAULT_BUDGET_BYTES,
    ResultsPage,
    StorageError,
    StorageFacts,
    stored_result,
)
from server.protocol import ResultMessage, StoredResult

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    task TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    received_at REAL NOT NULL,
    size INTEGER NOT NULL DEFAULT 0
)
"""
COLUMNS = (
    "seq",
    "id",
    "client_id",
    "task",
    "params",
    "result",
    "duration_ms",
    "received_at",
    "size",
)


class Store:
    """The results database. Open with `await Store.open(folder)`; `await close()` flushes it."""

    FILENAME = "offload.sqlite3"

    def __init__(
        self,
        path: Path,
        *,
        executor: ThreadPoolExecutor,
        db: sqlite3.Connection,
        budget_bytes: int,
        stored_bytes: int,
        max_batch: int,
    ) -> None:
        self.path = path
        self.budget_bytes = budget_bytes
        self._executor = executor
        self._db = db
        self._bytes = stored_bytes
        self._batcher = Batcher[tuple[Any, ...], bool](
            self._commit_batch,
            max_batch,
            fail=lambda exc: storage_error(exc, path),
            name="store-group-commit",
        )

    @property
    def commits(self) -> int:
        """Transactions committed so far (each holding one batch of results)."""
        return self._batcher.commits

    @classmethod
    async def open(
        cls,
        folder: Path,
        *,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
        max_batch: int = MAX_BATCH,
    ) -> Store:
        """Create the folder and database if needed, check it, and open it.

        Args:
            folder: the data folder.
            budget_bytes: once stored results take more than this, the oldest are deleted.
            max_batch: results per transaction at most; 1 commits each result on its own (the
                benchmark's baseline).

        Raises:
            StorageError: the database is corrupt, is not a database, or holds a table
                `results` that is not Offload's (one sentence saying which).
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        path = folder / cls.FILENAME
        try:
            db, stored_bytes = await asyncio.get_running_loop().run_in_executor(
                executor, connect, path
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(
            path,
            executor=executor,
            db=db,
            budget_bytes=budget_bytes,
            stored_bytes=stored_bytes,
            max_batch=max(1, max_batch),
        )

    @property
    def facts(self) -> StorageFacts:
        """The budget, and that an ack survives a crash (synchronous=FULL)."""
        return StorageFacts(
            budget_bytes=self.budget_bytes,
            durable=True,
            durability=(
                f"results are kept in SQLite at {self.path} with synchronous=FULL: "
                "an acknowledged result survives a crash of the server or the machine"
            ),
        )

    @property
    def stored_bytes(self) -> int:
        """What the stored results take, as the budget counts it."""
        return self._bytes

    async def _run[T](self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def add(self, client_id: str, message: ResultMessage) -> StoredResult | None:
        """Store a result; returns it as stored, or None when its id was already stored.

        Returns only once the transaction holding it is committed and fsynced.

        Raises:
            StorageError: the write failed (disk full, the table changed under us...).
        """
        stored = stored_result(client_id, message)
        # pydantic's encoder (Rust) rather than json.dumps: encoding is on the event loop, on
        # the path every ack waits for (docs/server.md). Compact UTF-8 JSON; json.loads reads it
        # back the same.
        params = to_json(stored.params).decode()
        result = to_json(stored.result).decode()
        row = (
            stored.id,
            stored.client_id,
            stored.task,
            params,
            result,
            stored.duration_ms,
            stored.received_at,
            text_bytes(stored.id, stored.client_id, stored.task, params, result) + 16,
        )
        inserted = await self._batcher.submit(row)
        return stored if inserted else None

    async def _commit_batch(self, rows: list[tuple[Any, ...]]) -> list[bool]:
        try:
            inserted = await self._run(self._commit, rows)
        except Exception as exc:
            log.error("%s", storage_error(exc, self.path))
            raise
        return inserted

    def _commit(self, rows: list[tuple[Any, ...]]) -> list[bool]:
        """One transaction: insert the rows, apply the budget, commit (runs on the store thread).

        The batch's ids already stored are found with one query and the rest inserted with one
        `executemany`: per-row statements would make a batch of a hundred cost several fsyncs'
        worth of CPU, and the store's thread holds the GIL while it runs Python.
        """
        db = self._db
        stored_bytes = self._bytes
        inserted: list[bool] = []
        fresh_rows: list[tuple[Any, ...]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            seen = already_stored(db, [row[0] for row in rows])
            for row in rows:
                fresh = row[0] not in seen
                inserted.append(fresh)
                if fresh:
                    seen.add(row[0])  # the same id twice in one batch: the first one wins
                    stored_bytes += row[-1]
                    fresh_rows.append(row)
            db.executemany(
                "INSERT INTO results"
                " (id, client_id, task, params, result, duration_ms, received_at, size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                fresh_rows,
            )
            if stored_bytes > self.budget_bytes:
                stored_bytes -= trim(db, stored_bytes - self.budget_bytes)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._bytes = stored_bytes
        return inserted

    async def page(self, limit: int, before: int | None = None) -> ResultsPage:
        """Up to `limit` results older than the cursor `before` (None: the newest), newest first.

        A row that no longer decodes (written by an older version) is skipped, not fatal: one
        bad row must not break the page for everyone.
        """

        def select() -> ResultsPage:
            rows = self._db.execute(
                "SELECT seq, id, client_id, task, params, result, duration_ms, received_at"
                " FROM results WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                (before if before is not None else 2**63 - 1, limit + 1),
            ).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            # Decoded here, on the store's thread: megabytes of JSON would stall the event loop.
            results = [r for r in map(decode_row, rows) if r is not None]
            return ResultsPage(results, rows[-1][0] if more and rows else None)

        return await self._run(select)

    async def recent(self, limit: int) -> list[StoredResult]:
        """The newest `limit` results, newest first."""
        return (await self.page(limit)).results

    async def close(self) -> None:
        """Commit what is queued, checkpoint the WAL into the main file and close."""
        await self._batcher.drain()

        def finish() -> None:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                # A full disk at shutdown (SIGTERM): every acked result is already in the WAL,
                # which SQLite replays at the next open. Say so in one line, not a traceback.
                log.warning(
                    "could not fold the WAL into the database at shutdown (%s); it is kept and "
                    "replayed at the next start, so no acked result is lost",
                    exc,
                )
            self._db.close()

        await self._run(finish)
        self._executor.shutdown(wait=True)


def text_bytes(*texts: str) -> int:
    """The texts' length in UTF-8 (what a row's text counts against the budget; its two numbers
    add 16). ASCII, the usual case, is measured without encoding."""
    total = 0
    for text in texts:
        total += len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return total


def already_stored(db: sqlite3.Connection, ids: list[str]) -> set[str]:
    """Which of `ids` are stored already (one query per 500 ids, under SQLite's variable limit)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" * len(part))
        found.update(
            r[0] for r in db.execute(f"SELECT id FROM results WHERE id IN ({marks})", part)
        )
    return found


def trim(db: sqlite3.Connection, excess: int) -> int:
    """Delete the oldest rows until at least `excess` bytes are freed; returns the bytes freed."""
    freed = 0
    while freed < excess:
        rows = db.execute("SELECT seq, size FROM results ORDER BY seq LIMIT 256").fetchall()
        if not rows:
            break
        cutoff = rows[-1][0]
        for seq, size in rows:
            freed += size
            if freed >= excess:
                cutoff = seq
                break
        db.execute("DELETE FROM results WHERE seq <= ?", (cutoff,))
    return freed


def decode_row(row: tuple[Any, ...]) -> StoredResult | None:
    """A stored row as a result, or None (logged) when it cannot be decoded."""
    try:
        return StoredResult(
            id=row[1],
            client_id=row[2],
            task=row[3],
            params=json.loads(row[4]),
            result=json.loads(row[5]),
            duration_ms=row[6],
            received_at=row[7],
        )
    except ValueError as exc:
        log.warning("skipping stored result seq %s: it does not decode (%s)", row[0], exc)
        return None


def connect(path: Path) -> tuple[sqlite3.Connection, int]:
    """Open (or create) the database, check it, and return it with its stored bytes.

    Raises:
        StorageError: corrupt, not a database, or someone else's table (one sentence).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        # quick_check reads every page but skips the index cross-checks: seconds for gigabytes,
        # and it is what finds torn or overwritten pages before we ack into them.
        verdict = db.execute("PRAGMA quick_check(1)").fetchone()[0]
        if verdict != "ok":
            verdict = " ".join(str(verdict).replace("*** in database main ***", "").split())
            raise StorageError(
                f"The results database {path} is corrupt ({verdict}): move it aside "
                "(or restore a backup) and start again."
            )
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a result is acked only after its commit is fsynced, so "acked" means "kept"
        # even if the machine, not just the server, goes down.
        db.execute("PRAGMA synchronous=FULL")
        db.execute(SCHEMA)
        columns = [r[1] for r in db.execute("PRAGMA table_info(results)")]
        if not set(COLUMNS) <= set(columns):
            raise StorageError(
                f"The database {path} has a table 'results' that is not Offload's "
                f"(columns {', '.join(columns)}): pass another --data-dir."
            )
        stored_bytes: int = db.execute("SELECT COALESCE(SUM(size), 0) FROM results").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StorageError(
            f"The results database {path} cannot be read ({exc}): move it aside "
            "(or restore a backup) and start again."
        ) from None
    except BaseException:
        db.close()
        raise
    return db, stored_bytes


def storage_error(exc: Exception, path: Path) -> StorageError:
    """The one-sentence, retryable error for a failed write."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return StorageError(f"The disk holding {path} is full: the result was not stored.")
    return StorageError(f"The result could not be stored in {path} ({exc}).")
