"""The built site is served at `/` with the right types, and nothing else is; `/` is the page's
folder, `/web/`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.server.conftest import INDEX


async def test_root_redirects_to_the_page_keeping_the_query(client: TestClient[Any, Any]) -> None:
    response = await client.get("/?socket=direct", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/web/?socket=direct"
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/web/"


async def test_a_folder_serves_its_index(client: TestClient[Any, Any]) -> None:
    response = await client.get("/?socket=direct")
    assert response.status == 200
    assert response.url.path_qs == "/web/?socket=direct"
    assert await response.read() == INDEX
    assert response.content_type == "text/html"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/app.js", "text/javascript"),
        ("/worker.mjs", "text/javascript"),
        ("/data.json", "application/json"),
        ("/offload-0.1.0-py3-none-any.whl", "application/zip"),
        ("/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/pyodide/python_stdlib.zip", "application/zip"),
    ],
)
async def test_files_have_the_types_browsers_insist_on(
    client: TestClient[Any, Any], path: str, content_type: str
) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == content_type


@pytest.mark.parametrize(
    "path",
    [
        "/pyodide/",
        "/pyodide",
        "/missing.js",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/a\\..\\x",
        "/" + "a" * 300,  # longer than a file name may be: ENAMETOOLONG is not found, not a 500
    ],
)
async def test_folders_missing_files_and_escapes_are_not_found(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path)
    assert response.status == 404
    assert "outside the site" not in await response.text()


async def test_raw_traversal_request_cannot_leave_the_site(client: TestClient[Any, Any]) -> None:
    # aiohttp's client normalizes "..", so send the request line by hand.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        f"GET /../secret.txt HTTP/1.1\r\nHost: {client.host}\r\nConnection: close\r\n\r\n".encode()
    )
    reply = await reader.read()
    writer.close()
    assert b"outside the site" not in reply
    assert reply.startswith((b"HTTP/1.1 404", b"HTTP/1.1 400"))
