"""Every response carries the isolation, CSP and nosniff headers; caching follows the path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, make_mocked_request

from server.config import Settings
from server.headers import (
    ISOLATION_HEADERS,
    SECURITY_HEADERS,
    SERVED_BY_OFFLOAD,
    UNISOLATED_HEADERS,
    reaches_insecure_context,
)
from tests.server.conftest import MakeClient, raw_handshake


@pytest.mark.parametrize(
    "path",
    ["/", "/index.html", "/app.js", "/pyodide/pyodide.asm.wasm", "/no-such-file", "/api/results"],
)
async def test_every_response_carries_the_security_headers(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    # What tells the page an Offload server answered (a static host sends none).
    assert response.headers[SERVED_BY_OFFLOAD] == "1"


async def test_refused_websocket_handshake_carries_the_security_headers(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/ws", headers={"Origin": "https://evil.example"})
    assert response.status == 403
    assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


async def test_websocket_upgrade_response_carries_the_security_headers(
    client: TestClient[Any, Any],
) -> None:
    status, headers = await raw_handshake(client)
    assert status == "HTTP/1.1 101 Switching Protocols"
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value


async def test_the_pyodide_runtime_is_cached_for_a_week(client: TestClient[Any, Any]) -> None:
    response = await client.get("/pyodide/pyodide.asm.wasm")
    assert response.headers["Cache-Control"] == "public, max-age=604800"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]


async def test_the_rest_of_the_site_is_always_revalidated(client: TestClient[Any, Any]) -> None:
    first = await client.get("/app.js")
    assert first.headers["Cache-Control"] == "no-cache"
    again = await client.get("/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert again.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


async def test_the_service_worker_may_control_the_whole_site(
    client: TestClient[Any, Any], dist: Path
) -> None:
    (dist / "web" / "offline").mkdir(parents=True)
    (dist / "web" / "offline" / "service-worker.js").write_text("// the worker\n")
    response = await client.get("/web/offline/service-worker.js")
    assert response.status == 200
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "Service-Worker-Allowed" not in (await client.get("/app.js")).headers


async def test_no_isolation_leaves_out_only_coop_coep_and_corp(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, isolation=False))
    response = await client.get("/")
    for name in ISOLATION_HEADERS:
        assert name not in response.headers
    for name, value in UNISOLATED_HEADERS.items():
        assert response.headers[name] == value
    assert "Content-Security-Policy" in UNISOLATED_HEADERS


@pytest.mark.parametrize(
    ("host", "forwarded_proto", "insecure"),
    [
        ("127.0.0.1:8765", "", False),
        ("localhost:8765", "", False),
        ("[::1]:8765", "", False),
        ("class.test:8765", "", True),
        ("192.168.1.20", "", True),
        ("class.test:8443", "https", False),
    ],
)
def test_plain_http_to_another_name_is_an_insecure_context(
    host: str, forwarded_proto: str, insecure: bool
) -> None:
    headers = {"Host": host, **({"X-Forwarded-Proto": forwarded_proto} if forwarded_proto else {})}
    request = make_mocked_request("GET", "/web/", headers=headers)
    assert reaches_insecure_context(request) is insecure
