"""`--allow-origin`: a page from another origin (a static host) may read /api/ (CORS).

The socket's side of `--allow-origin` is tested with the Origin check, in test_websocket.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.config import Settings
from tests.server.conftest import MakeClient

STATIC_HOST = "https://school.example"


@pytest.fixture
async def allowing(make_client: MakeClient, settings: Settings) -> TestClient[Any, Any]:
    return await make_client(replace(settings, allow_origins=(STATIC_HOST,)))


async def test_an_allowed_origin_may_read_the_api(allowing: TestClient[Any, Any]) -> None:
    response = await allowing.get("/api/results", headers={"Origin": STATIC_HOST})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == STATIC_HOST
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("origin", ["https://other.example", None])
async def test_any_other_origin_gets_no_permission_to_read_the_api(
    allowing: TestClient[Any, Any], origin: str | None
) -> None:
    headers = {} if origin is None else {"Origin": origin}
    response = await allowing.get("/api/results", headers=headers)
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_without_allow_origin_the_api_grants_no_origin(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/results", headers={"Origin": STATIC_HOST})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_allowed_origin_s_preflight_for_a_post_is_answered(
    allowing: TestClient[Any, Any],
) -> None:
    response = await allowing.options(
        "/api/request-size",
        headers={
            "Origin": STATIC_HOST,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == STATIC_HOST
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    posted = await allowing.post("/api/request-size", data=b"{}", headers={"Origin": STATIC_HOST})
    assert posted.status == 200
    assert posted.headers["Access-Control-Allow-Origin"] == STATIC_HOST


async def test_a_foreign_origin_s_preflight_is_refused(allowing: TestClient[Any, Any]) -> None:
    response = await allowing.options(
        "/api/request-size",
        headers={"Origin": "https://other.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_the_site_s_own_files_are_not_opened_to_other_origins(
    allowing: TestClient[Any, Any],
) -> None:
    response = await allowing.get("/", headers={"Origin": STATIC_HOST})
    assert "Access-Control-Allow-Origin" not in response.headers
