"""`/ws`: hello first, the handshake echoed, origins checked."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient

import server
from server.config import Settings
from tests.server.conftest import HANDSHAKE_ACCEPT, MakeClient, raw_handshake, receive_type


async def test_the_first_message_is_hello_with_version_and_client_id(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as ws:
        hello = await ws.receive_json(timeout=30)
    assert hello["type"] == "hello"
    assert hello["version"] == server.__version__
    assert hello["client_id"]
    assert hello["peers"] == 1
    assert hello["limits"]["max_frame_bytes"] == 64 * 1024


async def test_hello_shows_the_handshake_the_server_saw_and_answered(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as ws:
        handshake = (await ws.receive_json(timeout=30))["handshake"]
    assert handshake["request_line"] == "GET /ws HTTP/1.1"
    assert handshake["upgrade"].lower() == "websocket"
    assert "upgrade" in handshake["connection"].lower()
    assert handshake["sec_websocket_version"] == "13"
    assert handshake["status"] == 101
    assert handshake["sec_websocket_key"]
    assert handshake["sec_websocket_accept"]


async def test_the_accept_value_follows_rfc_6455(client: TestClient[Any, Any]) -> None:
    _, headers = await raw_handshake(client)
    assert headers["sec-websocket-accept"] == HANDSHAKE_ACCEPT


async def test_a_foreign_origin_is_refused_at_the_handshake(client: TestClient[Any, Any]) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", origin="https://evil.example")
    assert refused.value.status == 403


async def test_the_same_origin_is_allowed(client: TestClient[Any, Any]) -> None:
    origin = f"http://{client.host}:{client.port}"
    async with client.ws_connect("/ws", origin=origin) as ws:
        assert (await ws.receive_json(timeout=30))["type"] == "hello"


def result_message(message_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "type": "result",
        "id": message_id,
        "task": "primes",
        "params": {"limit": 1000},
        "result": {"count": 168},
        "duration_ms": 3.5,
        **changes,
    }


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        ("not json", "invalid_json"),
        ("[1,2]", "not_an_object"),
        ('{"no_type": 1}', "missing_type"),
        ('{"type": "no_such_type"}', "unknown_type"),
        ('{"type": "result", "id": "r-1"}', "invalid_message"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_connection_keeps_working(
    client: TestClient[Any, Any], frame: str, name: str
) -> None:
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        await ws.send_str(frame)
        error = await receive_type(ws, "error")
        assert error["name"] == name
        assert error["message"]
        await ws.send_json({"type": "ping", "id": "still-there"})
        assert (await receive_type(ws, "pong"))["id"] == "still-there"


async def test_a_result_is_acked_and_a_resend_is_acked_again_but_stored_once(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        await ws.send_json(result_message("r-1"))
        assert await receive_type(ws, "ack") == {"type": "ack", "id": "r-1", "duplicate": False}
        await ws.send_json(result_message("r-1"))
        assert await receive_type(ws, "ack") == {"type": "ack", "id": "r-1", "duplicate": True}
    stored = await (await client.get("/api/results")).json()
    assert [r["id"] for r in stored] == ["r-1"]
    assert stored[0]["result"] == {"count": 168}


async def test_a_result_is_broadcast_to_the_other_pages_but_not_its_sender(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as sender, client.ws_connect("/ws") as other:
        sender_id = (await receive_type(sender, "hello"))["client_id"]
        await receive_type(other, "hello")
        await sender.send_json(result_message("r-2"))
        shared = await receive_type(other, "peer_result")
        assert shared["result"]["id"] == "r-2"
        assert shared["result"]["client_id"] == sender_id
        # The sender's next message after its ack is the pong, not its own result.
        await receive_type(sender, "ack")
        await sender.send_json({"type": "ping"})
        assert (await sender.receive_json(timeout=30))["type"] == "pong"


async def test_every_page_is_told_how_many_peers_are_connected(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as first:
        assert (await receive_type(first, "peers"))["connections"] == 1
        async with client.ws_connect("/ws") as second:
            assert (await receive_type(second, "hello"))["peers"] == 2
            assert (await receive_type(first, "peers"))["connections"] == 2
        assert (await receive_type(first, "peers"))["connections"] == 1


async def test_a_frame_over_64_kib_closes_the_connection_with_1009(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        await ws.send_str("x" * (2 * 1024 * 1024))
        while (message := await ws.receive(timeout=30)).type != WSMsgType.CLOSE:
            pass
        assert message.data == WSCloseCode.MESSAGE_TOO_BIG


async def test_a_flooding_client_gets_an_error_then_1008(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, rate_per_second=0.001, rate_burst=5))
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        for n in range(10):
            await ws.send_json({"type": "ping", "id": str(n)})
        assert (await receive_type(ws, "error"))["name"] == "rate_limited"
        while (message := await ws.receive(timeout=30)).type != WSMsgType.CLOSE:
            pass
        assert message.data == WSCloseCode.POLICY_VIOLATION


async def test_an_allow_listed_origin_may_connect(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, allow_origins=("https://app.example",)))
    async with client.ws_connect("/ws", origin="https://APP.example/") as ws:
        assert (await ws.receive_json(timeout=30))["type"] == "hello"
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", origin="https://other.example")
    assert refused.value.status == 403


async def test_a_lone_surrogate_in_an_id_gets_an_error_and_the_connection_keeps_working(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        await ws.send_str('{"type": "ping", "id": "\\ud800"}')
        error = await receive_type(ws, "error")
        assert (error["id"], error["name"]) == (None, "invalid_text")
        await ws.send_json({"type": "ping", "id": "still-there"})
        assert (await receive_type(ws, "pong"))["id"] == "still-there"


async def test_a_result_that_could_not_be_served_again_is_not_acked_and_breaks_nothing(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as sender, client.ws_connect("/ws") as other:
        await receive_type(sender, "hello")
        await receive_type(other, "hello")
        poison = json.dumps(result_message("poison", result={"text": "\ud800"}))
        deep = json.dumps(result_message("deep", result=json.loads("[" * 254 + "]" * 254)))
        for frame, name in ((poison, "invalid_text"), (deep, "too_deep")):
            await sender.send_str(frame)
            error = await receive_type(sender, "error")
            assert (error["id"], error["name"]) == (json.loads(frame)["id"], name)
        await sender.send_json(result_message("fine"))
        assert (await receive_type(sender, "ack"))["id"] == "fine"
        assert (await receive_type(other, "peer_result"))["result"]["id"] == "fine"
    response = await client.get("/api/results")
    assert response.status == 200
    assert [r["id"] for r in await response.json()] == ["fine"]


async def test_protocol_level_pings_count_against_the_rate_limit(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, rate_per_second=0.001, rate_burst=5))
    async with client.ws_connect("/ws", autoping=False) as ws:
        await receive_type(ws, "hello")
        for _ in range(10):
            await ws.ping(b"flood")
        while (message := await ws.receive(timeout=30)).type != WSMsgType.CLOSE:
            pass
        assert message.data == WSCloseCode.POLICY_VIOLATION


async def test_a_protocol_ping_within_the_limit_is_answered(client: TestClient[Any, Any]) -> None:
    async with client.ws_connect("/ws", autoping=False) as ws:
        await receive_type(ws, "hello")
        await ws.ping(b"hi")
        while (message := await ws.receive(timeout=30)).type != WSMsgType.PONG:
            pass
        assert message.data == b"hi"


async def test_an_address_over_its_byte_budget_gets_over_budget_and_nothing_is_stored(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, address_bytes_per_hour=5_000))
    filler = {"blob": "x" * 2_000}
    async with client.ws_connect("/ws") as ws:
        hello = await receive_type(ws, "hello")
        assert hello["limits"]["address_bytes_per_hour"] == 5_000
        for n in range(2):
            await ws.send_json(result_message(f"fits-{n}", result=filler))
            assert (await receive_type(ws, "ack"))["id"] == f"fits-{n}"
        await ws.send_json(result_message("too-much", result=filler))
        refused = await receive_type(ws, "error")
        assert (refused["id"], refused["name"]) == ("too-much", "over_budget")
    # A new connection from the same address shares the budget.
    async with client.ws_connect("/ws") as again:
        await receive_type(again, "hello")
        await again.send_json(result_message("still-too-much", result=filler))
        assert (await receive_type(again, "error"))["name"] == "over_budget"
    ids = [r["id"] for r in await (await client.get("/api/results")).json()]
    assert ids == ["fits-1", "fits-0"]


@pytest.mark.parametrize("compression", [False, True])
async def test_permessage_deflate_is_offered_only_when_asked_for(
    make_client: MakeClient, settings: Settings, compression: bool
) -> None:
    client = await make_client(replace(settings, compression=compression))
    async with client.ws_connect("/ws", compress=15) as ws:
        await receive_type(ws, "hello")
        assert bool(ws.compress) is compression
