"""docs/hosting.md's nginx block, run for real in front of `python -m server`: TLS, the headers,
compression, /ws upgraded, and students counted one by one behind it."""

from __future__ import annotations

import asyncio
import os
import shlex
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, TCPConnector, WSServerHandshakeError

from server.__main__ import parse_args
from server.headers import SECURITY_HEADERS
from support.certificate import Certificate, make_certificate, openssl_binary
from support.nginx import (
    HOSTING_DOC,
    TEST_NAME,
    RunningNginx,
    documented_block,
    nginx_binary,
)
from support.server import RunningServer, free_port
from tests.server.conftest import receive_type, reply_to
from tests.server.test_websocket import result_message

CLASS = 30
BIG_SCRIPT = "export const text = `" + "print('hello, class')\n" * 400 + "`;\n"


def documented_serve_commands() -> list[list[str]]:
    """Every `python3 build.py serve ...` command in docs/hosting.md, as arguments."""
    text = HOSTING_DOC.read_text().replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        if line.startswith("python3 build.py serve"):
            command = line.partition("#")[0].removeprefix("python3 build.py serve")
            commands.append(shlex.split(command))
    return commands


def test_every_documented_serve_command_is_one_the_server_takes() -> None:
    commands = documented_serve_commands()
    assert len(commands) >= 4
    for args in commands:
        parse_args(args)  # exits 2 on a flag that does not exist or a bad value


def test_the_documented_block_upgrades_ws_and_forwards_the_client() -> None:
    block = documented_block()
    for line in (
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header Host $http_host;",
        "gzip on;",
    ):
        assert line in block
    assert "add_header" not in block  # the isolation headers come from upstream, once


@pytest.fixture
def proxied(dist: Path, tmp_path: Path) -> Iterator[tuple[RunningServer, RunningNginx]]:
    """Offload as the docs start it behind nginx (with a cap of one socket per address)."""
    if nginx_binary() is None or openssl_binary() is None:
        # A clear skip on a developer's machine; in CI (.ci/run installs both) a missing one fails.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing("no nginx or openssl (apt-get install nginx-light openssl)")
    (dist / "big.js").write_text(BIG_SCRIPT)
    server = RunningServer(
        port=free_port(),
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        extra_args=[
            *("--dist", str(dist), "--trusted-proxy", "127.0.0.1", "--public-name", TEST_NAME),
            *("--max-connections-per-address", "1"),
        ],
    ).start()
    certificate: Certificate = make_certificate(tmp_path / "tls")
    nginx = RunningNginx(tmp_path / "nginx", server.port, certificate)
    try:
        yield server, nginx.start()
    finally:
        nginx.stop()
        server.stop()


@pytest.fixture
def trusting(proxied: tuple[RunningServer, RunningNginx]) -> ssl.SSLContext:
    """A client context that trusts the fixture's certificate and nothing else."""
    return ssl.create_default_context(cafile=proxied[1].certificate.cert)


def url(nginx: RunningNginx, path: str, scheme: str = "https") -> str:
    return f"{scheme}://127.0.0.1:{nginx.https_port}{path}"


def as_class_test(nginx: RunningNginx) -> dict[str, str]:
    """What a browser at https://class.test:PORT/ sends (the name mapped to 127.0.0.1)."""
    name = f"{TEST_NAME}:{nginx.https_port}"
    return {"Host": name, "Origin": f"https://{name}"}


async def test_through_nginx_the_page_keeps_its_headers_and_is_compressed(
    proxied: tuple[RunningServer, RunningNginx], trusting: ssl.SSLContext
) -> None:
    _, nginx = proxied
    headers = {**as_class_test(nginx), "Accept-Encoding": "gzip"}
    async with ClientSession(auto_decompress=True) as session:
        async with session.get(url(nginx, "/"), ssl=trusting, headers=headers) as page:
            assert page.status == 200
            for name, value in SECURITY_HEADERS.items():
                assert page.headers.getall(name) == [value]
        async with session.get(url(nginx, "/big.js"), ssl=trusting, headers=headers) as script:
            assert script.headers["Content-Encoding"] == "gzip"
            assert await script.text() == BIG_SCRIPT


async def test_nginx_sends_plain_http_to_https(proxied: tuple[RunningServer, RunningNginx]) -> None:
    _, nginx = proxied
    async with ClientSession() as session:
        plain = f"http://127.0.0.1:{nginx.http_port}/"
        async with session.get(plain, allow_redirects=False) as answer:
            assert answer.status == 301
            assert answer.headers["Location"].startswith("https://")


async def test_behind_nginx_thirty_students_are_counted_one_by_one(
    proxied: tuple[RunningServer, RunningNginx], trusting: ssl.SSLContext
) -> None:
    _, nginx = proxied
    sessions: list[ClientSession] = []
    sockets: list[Any] = []
    try:
        # Each student connects from its own loopback address, as from its own machine.
        for n in range(2, 2 + CLASS):
            session = ClientSession(connector=TCPConnector(local_addr=(f"127.0.0.{n}", 0)))
            sessions.append(session)
            ws = await session.ws_connect(
                url(nginx, "/ws", "wss"), ssl=trusting, headers=as_class_test(nginx)
            )
            sockets.append(ws)
            await receive_type(ws, "hello")
        for n, ws in enumerate(sockets):
            assert (await reply_to(ws, result_message(f"r-{n}")))["type"] == "ack"
        # The cap of one per address holds for each student: the first one's second socket not.
        with pytest.raises(WSServerHandshakeError) as refused:
            await sessions[0].ws_connect(
                url(nginx, "/ws", "wss"), ssl=trusting, headers=as_class_test(nginx)
            )
        assert refused.value.status == 503
    finally:
        for ws in sockets:
            await ws.close()
        for session in sessions:
            await session.close()
        # aiohttp closes a TLS transport after close() returns (its shutdown handshake): give
        # the loop a moment, or the sockets are collected open (a ResourceWarning, an error here).
        await asyncio.sleep(0.25)
