"""The Redis engine's parts on a real redis-server: results once by id across processes, group
commit by pipelining, the budget, what Redis's persistence promises, and a clear start failure."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.engines import StorageError
from server.redis.link import RedisLink
from server.redis.store import RedisStore
from support.redis import RedisServer
from tests.server.test_store import ROOT, result
from tests.support import free_port


@pytest.fixture
async def link(redis_server: RedisServer) -> AsyncIterator[RedisLink]:
    started = RedisLink(redis_server.url)
    await started.start()
    yield started
    await started.close()


async def test_concurrent_results_go_in_few_pipelines_and_each_id_is_stored_once(
    link: RedisLink,
) -> None:
    store = RedisStore(link)
    other_process = RedisStore(link)
    firsts = await asyncio.gather(*(store.add("c", result(f"r-{i}")) for i in range(200)))
    assert all(s is not None for s in firsts)
    assert store.commits < 20
    again = await asyncio.gather(*(other_process.add("d", result(f"r-{i}")) for i in range(200)))
    assert all(s is None for s in again)
    assert {r.id for r in await other_process.recent(500)} == {f"r-{i}" for i in range(200)}


async def test_pages_of_results_walk_back_without_gaps(link: RedisLink) -> None:
    store = RedisStore(link)
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


async def test_beyond_the_budget_the_oldest_results_go_first(link: RedisLink) -> None:
    store = RedisStore(link, budget_bytes=20_000)
    for i in range(40):
        await store.add("c", result(f"r-{i:02}", "y" * 1000))
    kept = [r.id for r in await store.recent(100)]
    assert 10 < len(kept) < 40
    assert kept == [f"r-{i:02}" for i in reversed(range(40 - len(kept), 40))]
    assert int(await link.client.get("offload:results:bytes") or 0) <= 20_000


async def test_acks_are_durable_only_when_redis_fsyncs_always(link: RedisLink) -> None:
    assert await link.read_persistence() == (True, link.durability)
    await link.client.config_set("appendfsync", "everysec")
    durable, why = await link.read_persistence()
    assert not durable
    assert "everysec" in why
    await link.client.config_set("appendonly", "no")
    durable, why = await link.read_persistence()
    assert not durable
    assert "no AOF" in why


async def test_a_write_while_redis_is_away_is_a_storage_error_not_an_ack(
    link: RedisLink, redis_server: RedisServer
) -> None:
    store = RedisStore(link)
    redis_server.kill()
    with pytest.raises(StorageError, match="Redis"):
        await store.add("c", result("lost?"))
    assert not link.up


def test_the_server_says_in_one_sentence_when_redis_does_not_answer(dist: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run(
        [sys.executable, "-m", "server", "--port", "0", "--dist", str(dist), "--redis", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"Redis does not answer at {url}" in done.stderr
