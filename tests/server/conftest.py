"""Fixtures for the server's tests: a tiny built site and the app on aiohttp's test server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner

from server.app import make_app
from server.config import Settings
from server.guard import GuardedRunner
from support.redis import RedisServer, redis_binary

INDEX = b"<!doctype html><title>Offload test</title>\n"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A stand-in for `dist/`: the page (web/index.html, where `/` redirects), a script, wasm,
    and a file of the vendored runtime."""
    site = tmp_path / "dist"
    (site / "pyodide").mkdir(parents=True)
    (site / "web").mkdir()
    (site / "web" / "index.html").write_bytes(INDEX)
    (site / "index.html").write_bytes(INDEX)
    (site / "app.js").write_text("export const answer = 42;\n")
    (site / "worker.mjs").write_text("self.onmessage = () => {};\n")
    (site / "data.json").write_text("{}")
    (site / "offload-0.1.0-py3-none-any.whl").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (site / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm\x01\0\0\0")
    (site / "pyodide" / "python_stdlib.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (tmp_path / "secret.txt").write_text("outside the site")
    return site


@pytest.fixture
def settings(tmp_path: Path, dist: Path) -> Settings:
    return Settings(dist=dist, data_dir=tmp_path / "data")


class GuardedTestServer(TestServer):
    """aiohttp's test server, running the app the way `python -m server` does (GuardedRunner)."""

    def __init__(self, app: web.Application, settings: Settings) -> None:
        super().__init__(app)
        self.settings = settings

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return GuardedRunner(self.app, self.settings, **kwargs)


MakeClient = Callable[..., Coroutine[Any, Any, TestClient[Any, Any]]]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """`await make_client(settings)`: the app on a real loopback port, closed after the test."""
    clients: list[TestClient[Any, Any]] = []

    async def make(settings: Settings) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(GuardedTestServer(make_app(settings), settings))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: MakeClient, settings: Settings) -> TestClient[Any, Any]:
    return await make_client(settings)


async def receive_type(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of type `kind`, skipping others (e.g. `peers` updates)."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=30)
        if message["type"] == kind:
            return message


async def reply_to(ws: ClientWebSocketResponse, message: dict[str, Any]) -> dict[str, Any]:
    """Send a message; the server's `ack` or `error` for its id (skipping everything else)."""
    await ws.send_json(message)
    while True:
        reply: dict[str, Any] = await ws.receive_json(timeout=30)
        if reply.get("id") == message["id"] and reply["type"] in ("ack", "error"):
            return reply


HANDSHAKE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key
HANDSHAKE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # ...and the accept it must produce


async def raw_handshake(client: TestClient[Any, Any]) -> tuple[str, dict[str, str]]:
    """Upgrade `/ws` by hand; returns the status line and the (lower-cased) response headers."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        (
            "GET /ws HTTP/1.1\r\n"
            f"Host: {client.host}:{client.port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {HANDSHAKE_KEY}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    status, *lines = head.decode().strip().split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free port (AOF, fsync always) in a temp folder, stopped after."""
    if redis_binary() is None:
        pytest.skip("no redis-server installed (apt-get install redis-server)")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
