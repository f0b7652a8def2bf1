"""`/ws`: hello first, the handshake echoed, origins checked."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

import server
from tests.server.conftest import HANDSHAKE_ACCEPT, raw_handshake


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
