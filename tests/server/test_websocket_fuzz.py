"""Thousands of hypothesis-made frames down one connection: each is answered, none kills it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import make_app
from server.config import Settings
from server.protocol import CLIENT_MESSAGES
from tests.server.conftest import INDEX
from tests.server.test_protocol import json_values


@dataclass
class Line:
    """One WebSocket connection kept open across hypothesis examples, on its own loop thread."""

    loop: asyncio.AbstractEventLoop
    ws: ClientWebSocketResponse
    server: TestServer

    def run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=60)

    async def exchange(self, frame: str | bytes, n: int) -> list[dict[str, Any]]:
        """Send `frame` then a ping; return the replies up to its pong."""
        if isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)
        await self.ws.send_json({"type": "ping", "id": f"probe-{n}"})
        replies: list[dict[str, Any]] = []
        while True:
            message = await self.ws.receive(timeout=30)
            assert message.type == WSMsgType.TEXT, f"connection ended: {message}"
            reply = json.loads(message.data)
            if reply == {"type": "pong", "id": f"probe-{n}"}:
                return replies
            replies.append(reply)


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Line]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    (root / "dist").mkdir()
    (root / "dist" / "index.html").write_bytes(INDEX)
    config = Settings(
        dist=root / "dist", data_dir=root / "data", rate_per_second=1e9, rate_burst=10**9
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def open_line() -> tuple[TestServer, ClientSession, ClientWebSocketResponse]:
        server = TestServer(make_app(config))
        await server.start_server()
        session = ClientSession()
        ws = await session.ws_connect(server.make_url("/ws"))
        assert (await ws.receive_json(timeout=30))["type"] == "hello"
        return server, session, ws

    server, session, ws = asyncio.run_coroutine_threadsafe(open_line(), loop).result(60)
    yield Line(loop, ws, server)

    async def close_line() -> None:
        await ws.close()
        await session.close()
        await server.close()

    asyncio.run_coroutine_threadsafe(close_line(), loop).result(60)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


counter = iter(range(10**9))
message_like = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(CLIENT_MESSAGES)) | st.text(max_size=8)},
    optional={
        "id": st.text(max_size=140) | json_values,
        "task": json_values,
        "params": json_values,
        "result": json_values,
        "duration_ms": json_values,
        "samples": st.integers() | json_values,
        "job_id": json_values,
        "chunk": st.integers(),
    },
)
frames = (
    st.text(max_size=300)
    | st.binary(max_size=300)
    | json_values.map(json.dumps)
    | message_like.map(json.dumps)
)


@settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=frames)
def test_no_frame_kills_the_connection(line: Line, frame: str | bytes) -> None:
    replies = line.run(line.exchange(frame, next(counter)))
    for reply in replies:
        assert reply["type"] in {"ack", "error", "pong", "peers", "job_progress", "job_chunk"}
        if reply["type"] == "error":
            assert reply["name"]
            assert reply["message"]
