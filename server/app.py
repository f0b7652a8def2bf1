"""Builds the aiohttp application: routes, shared state, startup and shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import WSCloseCode, web

from server.api import request_size_handler, results_handler
from server.clients import client_middleware
from server.config import Settings
from server.cors import CrossOrigin
from server.engines import Engines
from server.errors import log_errors
from server.guard import HostCheck, handler_args, host_middleware
from server.headers import add_headers, add_headers_without_isolation
from server.hub import Hub
from server.job_rules import JobRules
from server.local_jobs import LocalJobs
from server.proxy import TrustedProxies
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
    """The whole server as one aiohttp app; its engines open on startup and close on cleanup."""
    hosts = HostCheck(settings.host, settings.allow_origins, settings.public_names)
    trusted = TrustedProxies.parse(settings.trusted_proxies)
    app = web.Application(
        middlewares=[
            log_errors,
            host_middleware(hosts),
            client_middleware(trusted, settings.max_connections_per_address),
        ],
        handler_args=handler_args(settings),
    )
    app[SETTINGS] = settings
    app[BUDGETS] = ByteBudgets(settings.address_bytes_per_hour)
    app.on_response_prepare.append(
        add_headers if settings.isolation else add_headers_without_isolation
    )
    app.cleanup_ctx.append(engines_context)
    app.cleanup_ctx.append(run_jobs)
    app.on_shutdown.append(close_sockets)
    app.router.add_get("/ws", websocket_handler, name="ws")
    app.router.add_get("/api/results", results_handler, name="results")
    app.router.add_post("/api/request-size", request_size_handler, name="request_size")
    CrossOrigin(settings.allow_origins).install(app)
    add_static_routes(app, settings.dist)
    return app


async def engines_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the app's hub, store and jobs (see `open_engines`) for its lifetime."""
    async with open_engines(app[SETTINGS]) as engines:
        app[HUB], app[STORE], app[JOBS] = engines.hub, engines.store, engines.jobs
        yield


@asynccontextmanager
async def open_engines(settings: Settings) -> AsyncIterator[Engines]:
    """The engines this server runs on, chosen once: Redis with `settings.redis_url` (shared by
    every process using it), else this process's hub, the SQLite store in the data folder and
    the in-memory job board. Started on entry; stopped, and the store flushed, on exit.

    Raises:
        StorageError: the database is unusable, or Redis does not answer (one sentence).
        ValueError: settings the chosen engine cannot keep (replicas with Redis).
    """
    rules = JobRules(
        lease_seconds=settings.lease_seconds,
        idle_seconds=settings.job_idle_seconds,
        max_seconds=settings.job_max_seconds,
        keep_seconds=settings.job_keep_seconds,
        per_owner=settings.jobs_per_address,
        replicas=settings.replicas,
    )
    if settings.redis_url is None:
        hub = Hub()
        store = await Store.open(settings.data_dir, budget_bytes=settings.storage_budget_bytes)
        try:
            yield Engines(hub, store, LocalJobs(hub, rules))
        finally:
            await store.close()  # flushes the WAL into the database file
        return
    link = RedisLink(settings.redis_url)
    redis_hub = RedisHub(link)
    jobs = RedisJobs(link, redis_hub, rules)
    await link.start()
    redis_store = RedisStore(link, settings.storage_budget_bytes)
    await redis_hub.start()
    try:
        yield Engines(redis_hub, redis_store, jobs)
    finally:
        await redis_store.close()
        await redis_hub.stop()
        await link.close()


async def close_sockets(app: web.Application) -> None:
    """Shutdown: every page hears 1001 Going Away (and will reconnect to the next server)."""
    await app[HUB].close_all(WSCloseCode.GOING_AWAY, "server shutting down")
