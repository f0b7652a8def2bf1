"""The HTTP guards: foreign Host names refused, connection caps, slow headers, quiet 400s."""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from server.config import Settings
from server.guard import SPARE_DESCRIPTORS, HostCheck, fit_descriptor_limit, quiet_accept_errors
from server.headers import SECURITY_HEADERS
from tests.server.conftest import MakeClient


async def raw_request(client: TestClient[Any, Any], request: bytes) -> bytes:
    """Send bytes on a fresh connection and read the whole reply (the server closes)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(request)
    reply = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return reply


# ---- DNS rebinding (issue 15, item 7) --------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/index.html", "/api/results", "/ws", "/no-such-file"])
async def test_a_foreign_host_name_is_refused_with_421_on_every_route(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(
        path, headers={"Host": "evil.example", "Origin": "http://evil.example"}
    )
    assert response.status == 421
    assert response.headers["Content-Security-Policy"]


async def test_a_rebound_page_cannot_open_the_socket(client: TestClient[Any, Any]) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(
            "/ws",
            origin=f"http://evil.example:{client.port}",
            headers={"Host": f"evil.example:{client.port}"},
        )
    assert refused.value.status == 421


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
async def test_the_loopback_names_are_served_on_a_loopback_bind(
    client: TestClient[Any, Any], host: str
) -> None:
    response = await client.get("/", headers={"Host": f"{host}:{client.port}"})
    assert response.status == 200


async def test_an_allowed_origin_s_host_is_served(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, allow_origins=("https://app.example",)))
    assert (await client.get("/", headers={"Host": "app.example"})).status == 200
    assert (await client.get("/", headers={"Host": "other.example"})).status == 421


def test_a_wildcard_bind_serves_ip_literals_but_not_names() -> None:
    check = HostCheck("0.0.0.0", ["https://app.example"])
    assert check.allows("192.168.1.20:8765")
    assert check.allows("[fe80::1]:8765")
    assert check.allows("localhost:8765")
    assert check.allows("app.example")
    assert not check.allows("evil.example:8765")
    assert not check.allows("[not-an-address")


def test_a_named_bind_serves_its_own_name_only() -> None:
    check = HostCheck("lab.example", [])
    assert check.allows("lab.example:8765")
    assert not check.allows("127.0.0.1:8765")
    assert not check.allows("lab.example.evil.example")


def test_a_public_name_is_served_beside_the_bind() -> None:
    check = HostCheck("127.0.0.1", [], ["class.test", "Proxy.School.Example"])
    assert check.allows("class.test:8765")
    assert check.allows("proxy.school.example")
    assert check.allows("127.0.0.1:8765")
    assert not check.allows("other.test:8765")


async def test_a_server_told_its_public_name_accepts_that_host_and_its_origin(
    make_client: MakeClient, settings: Settings
) -> None:
    # What a browser sends for http://class.test:PORT/ (mapped to 127.0.0.1 by its resolver).
    client = await make_client(replace(settings, public_names=("class.test",)))
    named = f"class.test:{client.port}"
    assert (await client.get("/", headers={"Host": named})).status == 200
    ws = await client.ws_connect("/ws", origin=f"http://{named}", headers={"Host": named})
    assert (await ws.receive_json(timeout=30))["type"] == "hello"
    await ws.close()
    # Another name is still a rebinding attempt; another origin still a foreign page.
    assert (await client.get("/", headers={"Host": "evil.test"})).status == 421
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", origin="http://evil.test", headers={"Host": named})
    assert refused.value.status == 403


async def test_without_its_public_name_the_server_refuses_that_host(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.get("/", headers={"Host": f"class.test:{client.port}"})).status == 421


# ---- slow headers, half-open connections, caps (issue 15, item 6) ----------------------------


async def test_a_connection_that_never_finishes_its_headers_is_closed(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, header_timeout_seconds=0.5))
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    # The server closes it; an honest client is served meanwhile.
    assert (await client.get("/")).status == 200
    assert await asyncio.wait_for(reader.read(), 30) == b""
    writer.close()


async def test_connections_over_the_per_address_cap_get_a_503_and_one_log_line(
    make_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(replace(settings, max_connections_per_address=3))
    held = [await asyncio.open_connection(client.host, client.port) for _ in range(3)]
    with caplog.at_level(logging.WARNING, logger="server.guard"):
        refusals = [
            await raw_request(client, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for _ in range(10)
        ]
    assert all(r.startswith(b"HTTP/1.1 503") for r in refusals)
    assert b"Too many connections" in refusals[0]
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1
    # Closing one frees its place.
    held[0][1].close()
    await held[0][1].wait_closed()
    for _ in range(100):
        if (await client.get("/")).status == 200:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("a freed place was never reused")
    for _, writer in held[1:]:
        writer.close()


async def test_the_total_connection_cap_holds_too(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, max_connections=2))
    held = [await asyncio.open_connection(client.host, client.port) for _ in range(2)]
    reply = await raw_request(client, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 503")
    for _, writer in held:
        writer.close()


# (The default admitting 300 sockets from one address: test_hub's 300-page broadcast test.)


# ---- the parser's own errors and the Server header (issue 15, item 9) ------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n",
        b"NOT-HTTP\r\n\r\n",
    ],
)
async def test_a_malformed_request_gets_a_400_with_the_security_headers_and_no_traceback(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    with caplog.at_level(logging.DEBUG):
        reply = await raw_request(client, request_bytes)
    head = reply.split(b"\r\n\r\n")[0].decode()
    assert head.startswith(("HTTP/1.1 400", "HTTP/1.0 400"))
    for name, value in SECURITY_HEADERS.items():
        assert f"{name}: {value}" in head
    assert "Server: Offload\r\n" in head
    assert all(record.exc_info is None for record in caplog.records)
    assert "Traceback" not in caplog.text


async def test_the_server_header_names_no_versions(client: TestClient[Any, Any]) -> None:
    for path in ("/", "/api/results", "/no-such-file"):
        assert (await client.get(path)).headers["Server"] == "Offload"


def test_the_connection_cap_is_fitted_under_the_open_files_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake limit of 1000 files that cannot be raised: the cap must leave room under it.
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1000, 1000))
    monkeypatch.setattr(resource, "setrlimit", lambda *_: None)
    assert fit_descriptor_limit(Settings(max_connections=8192)) == 1000 - SPARE_DESCRIPTORS
    assert fit_descriptor_limit(Settings(max_connections=100)) == 100


def test_accept_failures_are_one_log_line_not_a_traceback_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.new_event_loop()
    try:
        quiet_accept_errors(loop)
        with caplog.at_level(logging.DEBUG):
            for _ in range(50):
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(24, "Too many open files"),
                    }
                )
    finally:
        loop.close()
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info is None
    assert "accept() failed" in caplog.text
