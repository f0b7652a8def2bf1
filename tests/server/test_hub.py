"""Broadcast reaches everyone, at scale, and a page that stops reading cannot stall the rest."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector, WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from server.config import Settings
from server.hub import PEERS_DEBOUNCE_SECONDS, Connection
from server.state import HUB
from tests.server.conftest import MakeClient, receive_type
from tests.server.test_websocket import result_message

PAGES = 300


async def test_a_result_from_one_of_300_pages_reaches_the_299_others(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(settings)
    pages: list[ClientWebSocketResponse] = []
    # The default connector allows 100 connections and would make the 101st wait forever.
    session = ClientSession(connector=TCPConnector(limit=0))
    try:
        for _ in range(PAGES):
            ws = await session.ws_connect(client.make_url("/ws"))
            await receive_type(ws, "hello")
            pages.append(ws)
        sender, *others = pages
        await sender.send_json(result_message("to-everyone"))
        assert (await receive_type(sender, "ack"))["id"] == "to-everyone"
        received = await asyncio.gather(*(receive_type(ws, "peer_result") for ws in others))
        assert {message["result"]["id"] for message in received} == {"to-everyone"}
        assert len(received) == PAGES - 1
    finally:
        await asyncio.gather(*(ws.close() for ws in pages))
        await session.close()


async def fill_until_behind(
    sender: ClientWebSocketResponse, reader: ClientWebSocketResponse, behind: Connection
) -> None:
    """Send big results until `behind` (which never reads) starts missing news."""
    big = {"blob": "x" * 60_000}
    for n in range(MAX_MESSAGES):
        await sender.send_json(result_message(f"big-{n}", result=big))
        assert (await receive_type(sender, "ack"))["id"] == f"big-{n}"
        # The page that reads gets every result, however stuck the other one is.
        assert (await receive_type(reader, "peer_result"))["result"]["id"] == f"big-{n}"
        if behind.skipped:
            return
    raise AssertionError("the page that does not read never fell behind")


async def test_a_slow_page_misses_news_from_a_busy_neighbour_but_stays_connected(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(
        replace(settings, send_queue_size=8, rate_per_second=1e6, rate_burst=10**6)
    )
    hub = client.app[HUB]
    async with (
        client.ws_connect("/ws") as sender,
        client.ws_connect("/ws") as reader,
        client.ws_connect("/ws") as slow,
    ):
        await receive_type(sender, "hello")
        await receive_type(reader, "hello")
        slow_id = (await receive_type(slow, "hello"))["client_id"]
        await fill_until_behind(sender, reader, hub.connections[slow_id])
        for n in range(20):
            await sender.send_json(result_message(f"more-{n}"))
            await receive_type(sender, "ack")
        assert not hub.connections[slow_id].closing
        # Once it reads again, it is answered: it lost news, not its connection.
        await slow.send_json({"type": "ping", "id": "awake"})
        assert (await receive_type(slow, "pong"))["id"] == "awake"


async def test_a_page_that_stops_reading_what_it_must_get_is_dropped_with_1008(
    make_client: MakeClient, settings: Settings
) -> None:
    # A tiny queue so the stuck page overflows soon after the kernel's socket buffers fill.
    client = await make_client(
        replace(settings, send_queue_size=4, rate_per_second=1e6, rate_burst=10**6)
    )
    hub = client.app[HUB]
    async with (
        client.ws_connect("/ws") as sender,
        client.ws_connect("/ws") as reader,
        client.ws_connect("/ws") as stuck,
    ):
        await receive_type(sender, "hello")
        await receive_type(reader, "hello")
        stuck_id = (await receive_type(stuck, "hello"))["client_id"]
        # `stuck` never calls receive(): aiohttp stops reading its socket once its buffer is
        # full, the kernel buffers fill, and the server's writes to it block.
        connection = hub.connections[stuck_id]
        await fill_until_behind(sender, reader, connection)
        # Pongs are not news: they must be delivered, so these fill its queue.
        for n in range(10):
            await stuck.send_json({"type": "ping", "id": f"p{n}"})
        while stuck_id in hub.connections and not connection.closing:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        # Reading at last, it finds the documented close code behind its backlog.
        while (message := await stuck.receive(timeout=30)).type == WSMsgType.TEXT:
            pass
        assert message.type == WSMsgType.CLOSE
        assert message.data == WSCloseCode.POLICY_VIOLATION
        while stuck_id in hub.connections:  # noqa: ASYNC110 (no event to wait on from outside)
            await asyncio.sleep(0.05)
        # The other two are still connected and still served.
        assert len(hub) == 2
        await sender.send_json(result_message("after"))
        assert (await receive_type(reader, "peer_result"))["result"]["id"] == "after"


async def test_a_storm_of_connects_is_announced_once_not_once_per_page(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as watcher:
        await receive_type(watcher, "hello")
        assert (await receive_type(watcher, "peers"))["connections"] == 1
        started = time.monotonic()
        pages = [await client.ws_connect("/ws") for _ in range(30)]
        counts: list[int] = []
        while not counts or counts[-1] != 31:
            counts.append((await receive_type(watcher, "peers"))["connections"])
        # At most one announcement per debounce window (a busy machine makes windows more
        # numerous, never announcements more frequent).
        windows = (time.monotonic() - started) / PEERS_DEBOUNCE_SECONDS
        assert len(counts) <= windows + 1, (counts, windows)
        assert len(counts) < 30
        await asyncio.gather(*(page.close() for page in pages))
        assert (await receive_type(watcher, "peers"))["connections"] == 1


MAX_MESSAGES = 5000
