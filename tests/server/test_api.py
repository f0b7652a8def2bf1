"""`GET /api/results`: newest first, bounded, and still there after a restart."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from server.app import make_app
from server.config import Settings
from server.store import Store
from tests.server.conftest import GuardedTestServer, MakeClient, receive_type
from tests.server.test_websocket import result_message


async def send_results(client: TestClient[Any, Any], ids: list[str]) -> None:
    async with client.ws_connect("/ws") as ws:
        for message_id in ids:
            await ws.send_json(result_message(message_id))
            await receive_type(ws, "ack")


async def test_results_come_newest_first(client: TestClient[Any, Any]) -> None:
    await send_results(client, ["a", "b", "c"])
    response = await client.get("/api/results")
    assert response.content_type == "application/json"
    assert [r["id"] for r in await response.json()] == ["c", "b", "a"]


async def test_results_are_bounded_by_the_server_and_by_limit(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, results_limit=3))
    await send_results(client, [str(n) for n in range(5)])
    assert len(await (await client.get("/api/results")).json()) == 3
    assert len(await (await client.get("/api/results?limit=2")).json()) == 2
    assert len(await (await client.get("/api/results?limit=999")).json()) == 3


async def test_results_survive_a_restart_on_the_same_data_dir(
    make_client: MakeClient, settings: Settings
) -> None:
    first = await make_client(settings)
    await send_results(first, ["kept"])
    await first.close()
    second = await make_client(settings)
    assert [r["id"] for r in await (await second.get("/api/results")).json()] == ["kept"]


# ---- pages, bounds and rows that cannot be served (issue 15, items 1 and 3) ----------------


def next_link(response: ClientResponse) -> str | None:
    """The `rel="next"` target of a response's Link header, if any."""
    link = response.headers.get("Link")
    if link is None:
        return None
    target, _, rel = link.partition(";")
    assert rel.strip() == 'rel="next"'
    return target.strip().removeprefix("<").removesuffix(">")


async def walk(client: TestClient[Any, Any], url: str) -> list[list[str]]:
    """Every page's ids, following the Link headers from `url`."""
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url)
        assert response.status == 200
        pages.append([r["id"] for r in await response.json()])
        next_url = next_link(response)
    return pages


async def test_following_the_next_links_gives_every_result_once_newest_first(
    client: TestClient[Any, Any],
) -> None:
    await send_results(client, [f"r{n}" for n in range(7)])
    first = await client.get("/api/results?limit=3")
    assert [r["id"] for r in await first.json()] == ["r6", "r5", "r4"]
    # A result arriving while someone pages does not shift the pages after the cursor.
    await send_results(client, ["late"])
    rest = await walk(client, next_link(first) or "")
    assert rest == [["r3", "r2", "r1"], ["r0"]]


async def test_a_page_of_big_results_is_cut_at_the_body_bound_and_continues_after_it(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(replace(settings, results_body_bytes=200_000))
    big = {"blob": "x" * 60_000}
    async with client.ws_connect("/ws") as ws:
        for n in range(8):
            await ws.send_json(result_message(f"big{n}", result=big))
            await receive_type(ws, "ack")
    response = await client.get("/api/results")
    assert len(await response.read()) <= 200_000
    pages = await walk(client, "/api/results")
    assert all(1 <= len(page) <= 3 for page in pages)
    assert [i for page in pages for i in page] == [f"big{n}" for n in reversed(range(8))]


@pytest.mark.parametrize("query", ["limit=many", "limit=-1", "before=x", "before=1e3"])
async def test_a_malformed_page_query_is_a_400(client: TestClient[Any, Any], query: str) -> None:
    response = await client.get(f"/api/results?{query}")
    assert response.status == 400
    assert "non-negative integer" in await response.text()


def insert_raw_row(data_dir: Path, message_id: str, params: str, result: str) -> None:
    """Write a row as an older server version could have (no checks at the door)."""
    with sqlite3.connect(data_dir / Store.FILENAME) as db:
        db.execute(
            "INSERT INTO results (id, client_id, task, params, result, duration_ms, received_at)"
            " VALUES (?, 'old', 'primes', ?, ?, 1.0, 0.0)",
            (message_id, params, result),
        )


# Rows an older server could store: each one used to make `/api/results` answer 500.
BAD_ROWS = [
    ("surrogate-in-result", "{}", '{"text": "\\ud800"}'),
    ("deep", "{}", "[" * 255 + "]" * 255),
    ("deeper", "{}", "[" * 400 + "]" * 400),
    ("not-json", "{}", "{oops"),
]
# ...and one that is repaired rather than skipped (the key's lone surrogate becomes U+FFFD).
REPAIRED_ROW = ("surrogate-in-key", '{"\\udfff": 1}', "{}")


async def test_old_rows_that_cannot_be_served_are_skipped_not_a_500_even_after_restart(
    make_client: MakeClient, settings: Settings
) -> None:
    first = await make_client(settings)
    await send_results(first, ["before"])
    for row in [*BAD_ROWS, REPAIRED_ROW]:
        insert_raw_row(settings.data_dir, *row)
    await send_results(first, ["after"])
    served = ["after", "surrogate-in-key", "before"]
    assert await served_ids(first) == served
    await first.close()
    assert await served_ids(await make_client(settings)) == served


async def served_ids(client: TestClient[Any, Any]) -> list[str]:
    response = await client.get("/api/results")
    assert response.status == 200
    # Strict UTF-8 JSON, as a browser's JSON.parse would need it.
    return [r["id"] for r in json.loads((await response.read()).decode("utf-8"))]


async def test_request_size_counts_the_header_bytes_that_arrived_and_the_body(
    client: TestClient[Any, Any],
) -> None:
    body = b"x" * 300
    headers = {"X-Padding": "y" * 100}
    plain = await (await client.post("/api/request-size", data=body)).json()
    padded = await (await client.post("/api/request-size", data=body, headers=headers)).json()
    assert plain["body_bytes"] == 300
    # One more header line: its name, ": ", its value and CRLF.
    assert padded["header_bytes"] - plain["header_bytes"] == len("X-Padding: ") + 100 + 2
    assert plain["header_bytes"] > len("POST /api/request-size HTTP/1.1\r\n\r\n")


async def test_request_size_refuses_a_body_over_its_bound(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/request-size", data=b"x" * (64 * 1024 + 1))
    assert response.status == 413


@pytest.mark.parametrize("before", [2**63, 10**19 - 1])
async def test_a_cursor_beyond_sqlite_s_integers_is_a_400_not_a_500(
    client: TestClient[Any, Any], before: int
) -> None:
    response = await client.get(f"/api/results?before={before}")
    assert response.status == 400
    assert "at most" in await response.text()


async def test_request_size_reads_a_body_sent_in_two_parts_whole(
    client: TestClient[Any, Any],
) -> None:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /api/request-size HTTP/1.1\r\n"
        + f"Host: {client.host}:{client.port}\r\n".encode()
        + b"Content-Length: 600\r\nConnection: close\r\n\r\n"
        + b"x" * 300
    )
    await writer.drain()
    await asyncio.sleep(0.2)  # the second part arrives after the server began reading
    writer.write(b"y" * 300)
    response = await reader.read()
    writer.close()
    assert b" 200 " in response.split(b"\r\n", 1)[0]
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["body_bytes"] == 600


async def test_a_handler_s_crash_is_a_500_logged_with_its_traceback(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def crash(request: web.Request) -> web.Response:
        raise ZeroDivisionError("a bug")

    app = make_app(settings)
    app.router.add_get("/crash", crash)
    async with TestClient(GuardedTestServer(app, settings)) as client:
        response = await client.get("/crash")
        assert response.status == 500
        assert "ZeroDivisionError" not in await response.text()
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert [r.exc_info[0] for r in crashes if r.exc_info] == [ZeroDivisionError]
