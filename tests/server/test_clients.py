"""Per-address limits count clients: students behind a trusted proxy one by one, a class behind
one NAT within the defaults, and nobody by what an untrusted peer claims."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from server.config import Settings
from server.job_rules import MAX_ACTIVE_JOBS
from server.state import HUB
from tests.server.conftest import MakeClient, receive_type, reply_to
from tests.server.test_websocket import result_message

CLASS = 30


def addresses_served(client: TestClient[Any, Any]) -> set[str]:
    """The client address of every open socket: what the per-address limits count."""
    assert client.app is not None
    return {c.address for c in client.app[HUB].connections.values()}


async def open_socket(
    client: TestClient[Any, Any], forwarded: str | None = None
) -> ClientWebSocketResponse:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    ws = await client.ws_connect("/ws", headers=headers)
    await receive_type(ws, "hello")
    return ws


async def store_one(ws: ClientWebSocketResponse, message_id: str) -> dict[str, Any]:
    return await reply_to(ws, result_message(message_id))


async def start_job(ws: ClientWebSocketResponse, job_id: str) -> dict[str, Any]:
    job = {"type": "job_start", "id": job_id, "samples": 2_000, "chunk_samples": 1_000}
    return await reply_to(ws, job)


@pytest.fixture
def behind_proxy(settings: Settings) -> Settings:
    """The server as nginx on the same machine would reach it, with caps of one per address."""
    return replace(
        settings,
        trusted_proxies=("127.0.0.1",),
        max_connections_per_address=1,
        jobs_per_address=1,
    )


async def test_behind_a_trusted_proxy_thirty_students_are_counted_one_by_one(
    make_client: MakeClient, behind_proxy: Settings
) -> None:
    client = await make_client(behind_proxy)
    students = [f"198.51.100.{n}" for n in range(1, CLASS + 1)]
    sockets = [await open_socket(client, student) for student in students]
    assert addresses_served(client) == set(students)
    for n, ws in enumerate(sockets):
        assert (await store_one(ws, f"r-{n}"))["type"] == "ack"
    # The cap of one still holds for each of them: a second socket of the first student is not.
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"X-Forwarded-For": students[0]})
    assert refused.value.status == 503
    for ws in sockets:
        await ws.close()


async def test_behind_a_trusted_proxy_jobs_are_limited_per_student(
    make_client: MakeClient, behind_proxy: Settings
) -> None:
    client = await make_client(behind_proxy)
    first = await open_socket(client, "198.51.100.1")
    second = await open_socket(client, "198.51.100.2")
    assert (await start_job(first, "a"))["type"] == "ack"
    refused = await start_job(first, "b")
    assert (refused["type"], refused["name"]) == ("error", "job_limit")
    assert "This address" in refused["message"]
    assert (await start_job(second, "c"))["type"] == "ack"
    await first.close()
    await second.close()


async def test_behind_a_trusted_proxy_stored_bytes_are_budgeted_per_student(
    make_client: MakeClient, behind_proxy: Settings
) -> None:
    size = len(json.dumps(result_message("r-0")))
    client = await make_client(replace(behind_proxy, address_bytes_per_hour=size + size // 2))
    first = await open_socket(client, "198.51.100.1")
    second = await open_socket(client, "198.51.100.2")
    assert (await store_one(first, "r-0"))["type"] == "ack"
    assert (await store_one(first, "r-1"))["name"] == "over_budget"
    assert (await store_one(second, "r-2"))["type"] == "ack"
    await first.close()
    await second.close()


async def test_a_student_may_write_x_forwarded_for_but_only_the_proxy_s_entry_counts(
    make_client: MakeClient, behind_proxy: Settings
) -> None:
    client = await make_client(behind_proxy)
    # The client claimed 6.6.6.6; nginx appended the address it really came from.
    ws = await open_socket(client, "6.6.6.6, 198.51.100.1")
    assert addresses_served(client) == {"198.51.100.1"}
    await ws.close()


@pytest.mark.parametrize("trusted", [(), ("192.0.2.0/24",)])
async def test_an_untrusted_peer_s_x_forwarded_for_is_ignored(
    make_client: MakeClient, settings: Settings, trusted: tuple[str, ...]
) -> None:
    client = await make_client(
        replace(settings, trusted_proxies=trusted, max_connections_per_address=1)
    )
    ws = await open_socket(client, "198.51.100.1")
    assert addresses_served(client) == {"127.0.0.1"}
    # Claiming to be someone else does not get a second place under the cap of one.
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"X-Forwarded-For": "198.51.100.2"})
    assert refused.value.status == 503
    await ws.close()


async def test_a_class_behind_one_nat_fits_the_default_limits(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(settings)  # every limit at its default
    sockets = [await open_socket(client) for _ in range(CLASS)]
    assert addresses_served(client) == {"127.0.0.1"}
    for n, ws in enumerate(sockets):
        assert (await store_one(ws, f"r-{n}"))["type"] == "ack"
    # Every student presses "start": the board fills, and only the board's own cap refuses.
    answers = [await start_job(ws, f"job-{n}") for n, ws in enumerate(sockets)]
    assert [a["type"] for a in answers[:MAX_ACTIVE_JOBS]] == ["ack"] * MAX_ACTIVE_JOBS
    for refused in answers[MAX_ACTIVE_JOBS:]:
        assert refused["name"] == "job_limit"
        assert "jobs are already running" in refused["message"]
    for ws in sockets:
        await ws.close()
