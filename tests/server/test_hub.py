"""Broadcast reaches everyone, at scale, and a page that stops reading cannot stall the rest."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector

from server.config import Settings
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


async def test_a_page_that_stops_reading_is_dropped_and_the_others_get_everything(
    make_client: MakeClient, settings: Settings
) -> None:
    # A tiny queue so the stuck page overflows soon after the kernel's socket buffers fill.
    client = await make_client(
        replace(settings, send_queue_size=4, rate_per_second=1e6, rate_burst=10**6)
    )
    hub = client.app[HUB]
    big = {"blob": "x" * 60_000}
    async with (
        client.ws_connect("/ws") as sender,
        client.ws_connect("/ws") as reader,
        client.ws_connect("/ws") as stuck,
    ):
        await receive_type(sender, "hello")
        await receive_type(reader, "hello")
        stuck_id = (await receive_type(stuck, "hello"))["client_id"]
        # `stuck` never calls receive() again: aiohttp stops reading its socket once its buffer
        # is full, the kernel buffers fill, and the server's writes to it block.
        for n in range(MAX_MESSAGES):
            await sender.send_json(result_message(f"big-{n}", result=big))
            assert (await receive_type(sender, "ack"))["id"] == f"big-{n}"
            # The page that reads gets every result, however stuck the other one is.
            assert (await receive_type(reader, "peer_result"))["result"]["id"] == f"big-{n}"
            if hub.connections[stuck_id].closing:
                break
        else:
            raise AssertionError("the stuck page was never dropped")
        while stuck_id in hub.connections:  # noqa: ASYNC110 (no event to wait on from outside)
            await asyncio.sleep(0.05)
        # The other two are still connected and still served.
        assert len(hub) == 2
        await sender.send_json(result_message("after"))
        assert (await receive_type(reader, "peer_result"))["result"]["id"] == "after"


MAX_MESSAGES = 5000
