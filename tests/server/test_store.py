"""The SQLite store: group commit, each id once, the size budget, integrity at start, errors."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from server.engines import StorageError
from server.protocol import ResultMessage
from server.store import Store

ROOT = Path(__file__).resolve().parents[2]


def result(id: str, payload: str = "x") -> ResultMessage:
    return ResultMessage(
        id=id, task="primes", params={"n": 10}, result={"text": payload}, duration_ms=1.0
    )


async def test_concurrent_results_share_transactions_and_each_is_acked_once_stored(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path)
    try:
        stored = await asyncio.gather(*(store.add("c", result(f"r-{i}")) for i in range(200)))
        assert all(s is not None for s in stored)
        assert store.commits < 20, "200 concurrent results should need only a few commits"
        ids = {r.id for r in await store.recent(500)}
        assert ids == {f"r-{i}" for i in range(200)}
    finally:
        await store.close()


async def test_a_lone_result_is_committed_at_once_and_a_resend_is_a_duplicate(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path)
    try:
        assert await store.add("c", result("only")) is not None
        assert store.commits == 1
        assert await store.add("c", result("only")) is None
        twice = await asyncio.gather(store.add("c", result("same")), store.add("d", result("same")))
        assert sorted(s is None for s in twice) == [False, True]
    finally:
        await store.close()


async def test_one_commit_per_result_when_batches_are_limited_to_one(tmp_path: Path) -> None:
    store = await Store.open(tmp_path, max_batch=1)
    try:
        await asyncio.gather(*(store.add("c", result(f"r-{i}")) for i in range(20)))
        assert store.commits == 20
    finally:
        await store.close()


async def test_pages_walk_from_newest_to_oldest_without_gaps(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        for i in range(7):
            await store.add("c", result(f"r-{i}"))
        seen: list[str] = []
        before = None
        while True:
            page = await store.page(3, before)
            seen += [r.id for r in page.results]
            if page.next_before is None:
                break
            before = page.next_before
        assert seen == [f"r-{i}" for i in reversed(range(7))]
    finally:
        await store.close()


async def test_beyond_the_budget_the_oldest_results_go_first(tmp_path: Path) -> None:
    store = await Store.open(tmp_path, budget_bytes=20_000)
    try:
        for i in range(40):
            await store.add("c", result(f"r-{i:02}", "y" * 1000))
        assert store.stored_bytes <= 20_000
        kept = [r.id for r in await store.recent(100)]
        assert 10 < len(kept) < 40
        assert kept == [f"r-{i:02}" for i in reversed(range(40 - len(kept), 40))]
    finally:
        await store.close()
    reopened = await Store.open(tmp_path, budget_bytes=20_000)
    try:
        assert reopened.stored_bytes == store.stored_bytes
    finally:
        await reopened.close()


async def test_the_budget_counts_text_in_utf8_bytes_and_reads_back_what_was_sent(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path)
    try:
        ascii_only = await store.add("c", result("ascii", "a" * 100))
        before = store.stored_bytes
        accented = await store.add("c", result("accents", "é" * 100))  # 2 bytes each in UTF-8
        assert ascii_only is not None
        assert accented is not None
        assert store.stored_bytes - before == before + 100 + len("accents") - len("ascii")
        by_id = {r.id: r for r in await store.recent(10)}
        assert by_id["accents"].result == {"text": "é" * 100}
        assert by_id["accents"].params == {"n": 10}
    finally:
        await store.close()


async def test_a_corrupt_database_refuses_to_open_with_one_sentence(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    for i in range(300):
        await store.add("c", result(f"r-{i}", "z" * 500))
    await store.close()
    path = tmp_path / Store.FILENAME
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page + 8 : 3 * page + 2000] = b"\xff" * (2000 - 8)  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"is corrupt .*move it aside") as caught:
        await Store.open(tmp_path)
    assert "\n" not in str(caught.value)


async def test_a_file_that_is_not_a_database_refuses_to_open(tmp_path: Path) -> None:
    (tmp_path / Store.FILENAME).write_bytes(b"this is not SQLite" * 300)
    with pytest.raises(StorageError, match="cannot be read"):
        await Store.open(tmp_path)


async def test_someone_elses_results_table_refuses_to_open(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / Store.FILENAME) as db:
        db.execute("CREATE TABLE results (name TEXT, score INTEGER)")
    with pytest.raises(StorageError, match="not Offload's"):
        await Store.open(tmp_path)


async def test_a_results_table_without_every_column_of_ours_is_refused_not_migrated(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path)
    await store.close()
    with sqlite3.connect(tmp_path / Store.FILENAME) as db:
        db.execute("ALTER TABLE results DROP COLUMN size")
    with pytest.raises(StorageError, match="not Offload's"):
        await Store.open(tmp_path)


async def test_a_table_dropped_under_the_store_is_a_storage_error_not_an_ack(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path)
    try:
        await store.add("c", result("before"))
        with sqlite3.connect(tmp_path / Store.FILENAME) as other:
            other.execute("DROP TABLE results")
        with pytest.raises(StorageError, match="could not be stored"):
            await store.add("c", result("after"))
    finally:
        await store.close()


async def test_a_full_disk_is_a_storage_error_and_the_store_recovers(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        pages = await store._run(lambda: store._db.execute("PRAGMA page_count").fetchone()[0])
        # max_page_count makes SQLite answer SQLITE_FULL exactly as a full disk would.
        await store._run(store._db.execute, f"PRAGMA max_page_count={pages}")
        with pytest.raises(StorageError, match="full"):
            await asyncio.gather(
                *(store.add("c", result(f"big-{i}", "w" * 5000)) for i in range(50))
            )
        await store._run(store._db.execute, "PRAGMA max_page_count=1073741823")
        assert await store.add("c", result("later")) is not None
    finally:
        await store.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from server.protocol import ResultMessage
    from server.store import Store

    async def sender(store, n):
        i = 0
        while True:
            rid = f"s{n}-{i}"
            message = ResultMessage(id=rid, task="t", params={}, result=i, duration_ms=0)
            await store.add("c", message)
            sys.stdout.write(rid + "\\n")
            sys.stdout.flush()
            i += 1

    async def main():
        store = await Store.open(Path(sys.argv[1]))
        await asyncio.gather(*(sender(store, n) for n in range(20)))

    asyncio.run(main())
    """
)


def test_every_acked_result_survives_kill_9_of_a_group_committing_writer(
    tmp_path: Path,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    acked: list[str] = []
    try:
        while len(acked) < 2000:
            line = process.stdout.readline()
            assert line, "the writer stopped before acking 2000 results"
            acked.append(line.strip())
    finally:
        process.kill()  # SIGKILL: no shutdown, no checkpoint, no close
        process.wait()
    acked += [line.strip() for line in process.stdout.read().splitlines() if line.strip()]
    process.stdout.close()
    with sqlite3.connect(tmp_path / Store.FILENAME) as db:
        kept = {row[0] for row in db.execute("SELECT id FROM results")}
    missing = [rid for rid in acked if rid not in kept]
    assert not missing, f"{len(missing)} acked results were lost, e.g. {missing[:3]}"


def test_the_server_refuses_a_corrupt_database_with_one_sentence(
    dist: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / Store.FILENAME).write_bytes(b"this is not SQLite" * 300)
    done = subprocess.run(
        [sys.executable, "-m", "server", "--port", "0", "--dist", str(dist), "--data-dir", data],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot be read" in done.stderr
    assert "Offload is serving" not in done.stdout


async def test_a_full_disk_at_shutdown_is_one_warning_and_the_wal_keeps_every_acked_result(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(tmp_path)
    assert await store.add("c", result("acked")) is not None
    real = store._db

    class FullDisk:
        """The connection, except that folding the WAL into the database finds the disk full."""

        def execute(self, sql: str, *args: Any) -> Any:
            if "wal_checkpoint" in sql:
                raise sqlite3.OperationalError("database or disk is full")
            return real.execute(sql, *args)

        def close(self) -> None:
            real.close()

    store._db = FullDisk()  # type: ignore[assignment]
    await store.close()  # no exception: SIGTERM's shutdown goes on
    assert any("WAL" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    reopened = await Store.open(tmp_path)
    try:
        assert [r.id for r in await reopened.recent(10)] == ["acked"]
    finally:
        await reopened.close()
