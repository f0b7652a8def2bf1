"""Heartbeats find peers that went silent (a laptop lid closed, a cable pulled) and close them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType

from server.config import Settings
from tests.server.conftest import MakeClient

HEARTBEAT = 0.2


@asynccontextmanager
async def listening(ws: ClientWebSocketResponse) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """Keep reading `ws` in the background: aiohttp's client answers pings only while it reads,
    as a browser always does."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def read() -> None:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                inbox.put_nowait(json.loads(message.data))

    reader = asyncio.create_task(read())
    try:
        yield inbox
    finally:
        reader.cancel()


async def next_of(inbox: asyncio.Queue[dict[str, Any]], kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while (message := await inbox.get())["type"] != kind:
            pass
    return message


async def peers_become(inbox: asyncio.Queue[dict[str, Any]], count: int) -> None:
    while (await next_of(inbox, "peers"))["connections"] != count:
        pass


async def test_a_peer_that_never_answers_pings_is_closed_and_the_others_are_told(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, heartbeat_seconds=HEARTBEAT))
    watcher = await client.ws_connect("/ws")
    async with listening(watcher) as inbox:
        assert (await next_of(inbox, "hello"))["peers"] == 1
        # autoping=False and nobody reading: this peer never answers, like one that vanished.
        silent = await client.ws_connect("/ws", autoping=False)
        await peers_become(inbox, 2)
        await peers_become(inbox, 1)  # the server gave up on it
        await watcher.send_json({"type": "ping", "id": "still-here"})
        assert (await next_of(inbox, "pong"))["id"] == "still-here"
    kinds = []
    async with asyncio.timeout(10):
        while (message := await silent.receive()).type not in (WSMsgType.CLOSE, WSMsgType.CLOSED):
            kinds.append(message.type)
    assert WSMsgType.PING in kinds  # it was asked, and said nothing


async def test_a_peer_that_answers_pings_stays(make_client: MakeClient, settings: Settings) -> None:
    client = await make_client(replace(settings, heartbeat_seconds=HEARTBEAT))
    ws = await client.ws_connect("/ws")
    async with listening(ws) as inbox:
        await next_of(inbox, "hello")
        await asyncio.sleep(5 * HEARTBEAT)
        await ws.send_json({"type": "ping", "id": "alive"})
        assert (await next_of(inbox, "pong"))["id"] == "alive"
    assert not ws.closed
