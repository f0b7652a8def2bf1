"""A connection that carries several browser tabs (a shared worker's) says so, and `peers` counts
connections and tabs apart."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.server.conftest import receive_type


async def test_peers_counts_the_tabs_a_shared_connection_carries(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as shared, client.ws_connect("/ws") as direct:
        await receive_type(shared, "hello")
        await receive_type(direct, "hello")
        await shared.send_json({"type": "tabs", "count": 3})
        peers = await receive_type(direct, "peers")
        while peers["tabs"] != 4:  # skip the update the second connection caused
            peers = await receive_type(direct, "peers")
        assert (peers["connections"], peers["tabs"]) == (2, 4)
        assert "count" not in peers


async def test_a_tab_count_out_of_range_is_refused_with_a_clear_error(
    client: TestClient[Any, Any],
) -> None:
    async with client.ws_connect("/ws") as ws:
        await receive_type(ws, "hello")
        await ws.send_json({"type": "tabs", "count": 0})
        error = await receive_type(ws, "error")
        assert "count" in error["message"]
