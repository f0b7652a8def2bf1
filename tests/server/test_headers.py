"""Every response carries the isolation, CSP and nosniff headers; caching follows the path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.config import Settings
from server.headers import ISOLATION_HEADERS, SECURITY_HEADERS, UNISOLATED_HEADERS
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
