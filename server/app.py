"""Builds the aiohttp application: routes, shared state, startup and shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from aiohttp import WSCloseCode, web

from server.api import request_size_handler, results_handler
from server.config import Settings
from server.guard import HostCheck, handler_args, host_middleware
from server.headers import add_headers, add_headers_without_isolation
from server.hub import Hub
from server.job_rules import JobRules
from server.local_jobs import LocalJobs
from server.ratelimit import ByteBudgets
from server.redis.hub import RedisHub
from server.redis.jobs import RedisJobs
from server.redis.link import RedisLink
from server.redis.store import RedisStore
from server.state import BUDGETS, HUB, JOBS, SETTINGS, STORE
from server.static import add_static_routes
from server.store import Store
from server.websocket import run_jobs, websocket_handler


def make_app(settings: Settings) -> web.Application:
    """The whole server as one aiohttp app; the store opens on startup and closes on cleanup."""
    app = web.Application(
        middlewares=[host_middleware(HostCheck(settings.host, settings.allow_origins))],
        handler_args=handler_args(settings),
    )
    app[SETTINGS] = settings
    link = RedisLink(settings.redis_url) if settings.redis_url else None
    app[HUB] = RedisHub(link) if link is not None else Hub()
    app[BUDGETS] = ByteBudgets(settings.address_bytes_per_hour)
    rules = JobRules(
        lease_seconds=settings.lease_seconds,
        idle_seconds=settings.job_idle_seconds,
        keep_seconds=settings.job_keep_seconds,
        per_owner=settings.jobs_per_address,
        replicas=settings.replicas,
    )
    app[JOBS] = RedisJobs(link, app[HUB], rules) if link is not None else LocalJobs(app[HUB], rules)
    app.on_response_prepare.append(
        add_headers if settings.isolation else add_headers_without_isolation
    )
    app.cleanup_ctx.append(partial(store_context, link=link))
    app.cleanup_ctx.append(run_jobs)
    app.on_shutdown.append(close_sockets)
    app.router.add_get("/ws", websocket_handler, name="ws")
    app.router.add_get("/api/results", results_handler, name="results")
    app.router.add_post("/api/request-size", request_size_handler, name="request_size")
    add_static_routes(app, settings.dist)
    return app


async def store_context(
    app: web.Application, *, link: RedisLink | None = None
) -> AsyncIterator[None]:
    """Open the results store (and with Redis, the link and the hub's background work) for the
    app's lifetime; closing the SQLite store flushes the WAL.

    Raises:
        StorageError: the database is unusable, or Redis does not answer (one sentence).
    """
    settings = app[SETTINGS]
    if link is None:
        app[STORE] = await Store.open(settings.data_dir, budget_bytes=settings.storage_budget_bytes)
        yield
        await app[STORE].close()
        return
    await link.start()
    hub = app[HUB]
    assert isinstance(hub, RedisHub)
    app[STORE] = RedisStore(link, settings.storage_budget_bytes)
    await hub.start()
    try:
        yield
    finally:
        await app[STORE].close()
        await hub.stop()
        await link.close()


async def close_sockets(app: web.Application) -> None:
    """Shutdown: every page hears 1001 Going Away (and will reconnect to the next server)."""
    await app[HUB].close_all(WSCloseCode.GOING_AWAY, "server shutting down")
