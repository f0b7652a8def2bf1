"""Limits charge frames when they arrive, of every kind; the heartbeat wants pongs, not bytes.

Raw sockets sending hand-built frames to a real server on a free port (tests/server/conftest.py).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.config import Settings
from server.protocol import ResultMessage
from server.state import STORE
from tests.server.conftest import HANDSHAKE_KEY, MakeClient, receive_type
from tests.server.test_frames import frame
from tests.server.test_websocket import result_message

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


@asynccontextmanager
async def raw_socket(
    client: TestClient[Any, Any],
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A `/ws` connection upgraded by hand, left open for hand-built frames."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        (
            "GET /ws HTTP/1.1\r\n"
            f"Host: {client.host}:{client.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    try:
        yield reader, writer
    finally:
        writer.close()


def masked(opcode: int, payload: bytes = b"", *, fin: bool = True) -> bytes:
    """A frame as a client must send it (masked)."""
    return frame(opcode, payload, fin=fin, mask=os.urandom(4))


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The server's next frame (unmasked): (opcode, payload)."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await reader.readexactly(size)


async def close_frame(reader: asyncio.StreamReader) -> tuple[int, bytes, list[bytes]]:
    """Read up to the server's close frame: its code, its reason, the text frames before it."""
    texts: list[bytes] = []
    async with asyncio.timeout(30):
        while True:
            opcode, payload = await read_frame(reader)
            if opcode == CLOSE:
                return int.from_bytes(payload[:2], "big"), payload[2:], texts
            if opcode == TEXT:
                texts.append(payload)


FLOODS: dict[str, Callable[[], bytes]] = {
    "unsolicited pongs": lambda: b"".join(masked(PONG) for _ in range(2_000)),
    "pings": lambda: b"".join(masked(PING) for _ in range(2_000)),
    "empty continuations": lambda: (
        masked(TEXT, b"{", fin=False)
        + b"".join(masked(CONTINUATION, fin=False) for _ in range(2_000))
    ),
    "binary frames": lambda: b"".join(masked(BINARY, b"\0") for _ in range(2_000)),
}


@pytest.mark.parametrize("kind", sorted(FLOODS))
async def test_a_flood_of_any_frame_kind_is_closed_with_1008(
    make_client: MakeClient, settings: Settings, kind: str
) -> None:
    client = await make_client(replace(settings, rate_per_second=10, rate_burst=20))
    async with raw_socket(client) as (reader, writer):
        writer.write(FLOODS[kind]())
        code, reason, texts = await close_frame(reader)
    assert code == 1008
    assert reason == b"rate limit exceeded"
    assert any(b'"rate_limited"' in text for text in texts)


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a state (generously bounded), never for a time."""
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110  (state kept by the server under test)
            await asyncio.sleep(0.02)


async def test_an_honest_page_is_not_cut_off_by_a_store_stall(
    make_client: MakeClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate = 10.0
    client = await make_client(replace(settings, rate_per_second=rate, rate_burst=5))
    store = client.app[STORE]
    stalled, release = asyncio.Event(), asyncio.Event()
    add: Callable[..., Awaitable[Any]] = store.add

    async def stalling_add(client_id: str, message: ResultMessage) -> Any:
        stalled.set()
        await release.wait()  # the store is locked (another process writing, Redis slow)
        return await add(client_id, message)

    monkeypatch.setattr(store, "add", stalling_add)
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        await ws.send_json(result_message("r1"))
        await until(stalled.is_set)
        # Half the rate, for four times the burst: queued behind the stall, a burst when read.
        pings = 4 * 5
        for n in range(pings):
            await ws.send_json({"type": "ping", "id": f"p{n}"})
            await asyncio.sleep(2 / rate)
        release.set()
        assert (await receive_type(ws, "ack"))["id"] == "r1"
        for n in range(pings):
            assert (await receive_type(ws, "pong"))["id"] == f"p{n}"
        assert not ws.closed


HEARTBEAT = 0.5


async def is_cut_off_while(
    reader: asyncio.StreamReader, sending: Coroutine[Any, Any, None]
) -> bool:
    """Run `sending` and read what the server sends (its pings) until it closes the connection."""
    task = asyncio.create_task(sending)
    try:
        async with asyncio.timeout(30 * HEARTBEAT):
            while await reader.read(4096):
                pass
        return True
    finally:
        task.cancel()


async def test_a_peer_trickling_an_unfinished_frame_without_answering_pings_is_closed(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, heartbeat_seconds=HEARTBEAT))
    async with raw_socket(client) as (reader, writer):
        unfinished = masked(TEXT, b"x" * 1000)[:-1]  # longer than the wait

        async def trickle() -> None:
            for byte in unfinished:
                writer.write(bytes([byte]))
                await asyncio.sleep(HEARTBEAT / 5)

        assert await is_cut_off_while(reader, trickle())


async def test_a_peer_sending_pongs_of_its_own_but_not_answering_pings_is_closed(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, heartbeat_seconds=HEARTBEAT))
    async with raw_socket(client) as (reader, writer):

        async def unsolicited() -> None:
            while True:
                writer.write(masked(PONG, b"i am here"))
                await asyncio.sleep(HEARTBEAT / 5)

        assert await is_cut_off_while(reader, unsolicited())


async def test_a_raw_peer_answering_each_ping_with_its_payload_stays(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, heartbeat_seconds=HEARTBEAT))
    async with raw_socket(client) as (reader, writer):
        answered = 0
        while answered < 6:  # three intervals' worth and more: the server would have given up
            opcode, payload = await asyncio.wait_for(read_frame(reader), 30)
            if opcode == PING:
                writer.write(masked(PONG, payload))
                answered += 1
        writer.write(masked(TEXT, b'{"type": "ping", "id": "alive"}'))
        async with asyncio.timeout(30):
            while True:
                opcode, payload = await read_frame(reader)
                assert opcode != CLOSE
                if opcode == PING:
                    writer.write(masked(PONG, payload))
                if opcode == TEXT and b'"alive"' in payload:
                    break
