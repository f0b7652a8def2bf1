"""`GET /api/results`: newest first, bounded, and still there after a restart."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient

from server.config import Settings
from tests.server.conftest import MakeClient, receive_type
from tests.server.test_websocket import result_message


async def send_results(client: TestClient[Any, Any], ids: list[str]) -> None:
    async with client.ws_connect("/ws") as ws:
        for message_id in ids:
            await ws.send_json(result_message(message_id))
            await receive_type(ws, "ack")


async def test_results_come_newest_first(client: TestClient[Any, Any]) -> None:
    await send_results(client, ["a", "b", "c"])
    response = await client.get("/api/results")
    assert response.content_type == "application/json"
    assert [r["id"] for r in await response.json()] == ["c", "b", "a"]


async def test_results_are_bounded_by_the_server_and_by_limit(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, results_limit=3))
    await send_results(client, [str(n) for n in range(5)])
    assert len(await (await client.get("/api/results")).json()) == 3
    assert len(await (await client.get("/api/results?limit=2")).json()) == 2
    assert len(await (await client.get("/api/results?limit=999")).json()) == 3
    assert (await client.get("/api/results?limit=many")).status == 400


async def test_results_survive_a_restart_on_the_same_data_dir(
    make_client: MakeClient, settings: Settings
) -> None:
    first = await make_client(settings)
    await send_results(first, ["kept"])
    await first.close()
    second = await make_client(settings)
    assert [r["id"] for r in await (await second.get("/api/results")).json()] == ["kept"]


async def test_request_size_counts_the_header_bytes_that_arrived_and_the_body(
    client: TestClient[Any, Any],
) -> None:
    body = b"x" * 300
    headers = {"X-Padding": "y" * 100}
    plain = await (await client.post("/api/request-size", data=body)).json()
    padded = await (await client.post("/api/request-size", data=body, headers=headers)).json()
    assert plain["body_bytes"] == 300
    # One more header line: its name, ": ", its value and CRLF.
    assert padded["header_bytes"] - plain["header_bytes"] == len("X-Padding: ") + 100 + 2
    assert plain["header_bytes"] > len("POST /api/request-size HTTP/1.1\r\n\r\n")


async def test_request_size_refuses_a_body_over_its_bound(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/request-size", data=b"x" * (64 * 1024 + 1))
    assert response.status == 413
