"""Builds the aiohttp application: routes, shared state, startup and shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from server.api import request_size_handler, results_handler
from server.config import Settings
from server.headers import add_headers, add_headers_without_isolation
from server.hub import Hub
from server.jobs import JobBoard
from server.static import add_static_routes
from server.store import Store
from server.websocket import HUB, JOBS, SETTINGS, STORE, websocket_handler


def make_app(settings: Settings) -> web.Application:
    """The whole server as one aiohttp app; the store opens on startup and closes on cleanup."""
    app = web.Application()
    app[SETTINGS] = settings
    app[HUB] = Hub()
    app[JOBS] = JobBoard()
    app.on_response_prepare.append(
        add_headers if settings.isolation else add_headers_without_isolation
    )
    app.cleanup_ctx.append(store_context)
    app.on_shutdown.append(close_sockets)
    app.router.add_get("/ws", websocket_handler, name="ws")
    app.router.add_get("/api/results", results_handler, name="results")
    app.router.add_post("/api/request-size", request_size_handler, name="request_size")
    add_static_routes(app, settings.dist)
    return app


async def store_context(app: web.Application) -> AsyncIterator[None]:
    """Open the results store for the app's lifetime; closing it flushes the WAL."""
    app[STORE] = await Store.open(app[SETTINGS].data_dir)
    yield
    await app[STORE].close()


async def close_sockets(app: web.Application) -> None:
    """Shutdown: every page hears 1001 Going Away (and will reconnect to the next server)."""
    await app[HUB].close_all(WSCloseCode.GOING_AWAY, "server shutting down")
