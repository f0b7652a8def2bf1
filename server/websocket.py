"""The `/ws` endpoint: aiohttp I/O around the protocol (parsing, jobs and limits live elsewhere)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from server import __version__
from server.engines import StorageError
from server.hub import Connection
from server.job_rules import JobRefused
from server.origin import origin_allowed
from server.protocol import (
    AckMessage,
    ChunkResultMessage,
    ClientMessage,
    ErrorMessage,
    Handshake,
    HelloMessage,
    JobsJoinMessage,
    JobsLeaveMessage,
    JobStartMessage,
    Limits,
    PeerResultMessage,
    PingMessage,
    PongMessage,
    ProtocolError,
    ResultMessage,
    TabsMessage,
    parse_client_message,
)
from server.ratelimit import TokenBucket
from server.state import BUDGETS, HUB, JOBS, SETTINGS, STORE
from server.wire import Heartbeat, WireTap

log = logging.getLogger(__name__)


def handshake_seen(request: web.Request, ws: web.WebSocketResponse) -> Handshake:
    """The upgrade request's key lines and the accept value the server answered with."""
    version = f"HTTP/{request.version.major}.{request.version.minor}"
    return Handshake(
        request_line=f"{request.method} {request.path_qs} {version}",
        upgrade=request.headers.get(hdrs.UPGRADE, ""),
        connection=request.headers.get(hdrs.CONNECTION, ""),
        sec_websocket_key=request.headers.get(hdrs.SEC_WEBSOCKET_KEY, ""),
        sec_websocket_version=request.headers.get(hdrs.SEC_WEBSOCKET_VERSION, ""),
        sec_websocket_accept=ws.headers.get(hdrs.SEC_WEBSOCKET_ACCEPT, ""),
    )


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    """Upgrade to a WebSocket, say hello, then serve messages until either side closes."""
    settings = request.app[SETTINGS]
    if not origin_allowed(request.headers.get(hdrs.ORIGIN), request.host, settings.allow_origins):
        raise web.HTTPForbidden(text="This origin may not open a WebSocket here.\n")
    ws = web.WebSocketResponse(
        max_msg_size=settings.max_frame_bytes,
        # Ours (server.wire.Heartbeat): aiohttp's takes any byte as an answer.
        heartbeat=None,
        # Pings are answered by the handler (after the wire tap has charged them).
        autoping=False,
        compress=settings.compression,
    )
    await ws.prepare(request)

    hub = request.app[HUB]
    client_id = secrets.token_hex(6)
    connection = Connection(client_id, request, ws, settings.send_queue_size)
    connection.start()
    session = Session(request.app, connection)
    heartbeat = session.tap_the_wire()
    connection.send(
        HelloMessage(
            version=__version__,
            client_id=client_id,
            peers=len(hub) + 1,
            handshake=handshake_seen(request, ws),
            limits=Limits(
                max_frame_bytes=settings.max_frame_bytes,
                rate_per_second=settings.rate_per_second,
                rate_burst=settings.rate_burst,
                heartbeat_seconds=settings.heartbeat_seconds,
                address_bytes_per_hour=settings.address_bytes_per_hour,
                storage_budget_bytes=request.app[STORE].facts.budget_bytes,
                max_connections_per_address=settings.max_connections_per_address,
                lease_seconds=settings.lease_seconds,
                jobs_per_address=settings.jobs_per_address,
                durable_acks=request.app[STORE].facts.durable,
            ),
        )
    )
    hub.add(connection)
    try:
        async for frame in ws:
            if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await session.receive(frame.data)
            elif frame.type == WSMsgType.PING:
                await ws.pong(frame.data)
            elif frame.type == WSMsgType.ERROR:
                # aiohttp has already closed with the right code (1009 for an oversized frame).
                log.info("client %s: %s", client_id, ws.exception())
                break
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
        hub.remove(connection)
        await session.leave_jobs()
        await connection.drain_and_stop()
    return ws


class Session:
    """One connection's message handling: the rules of issue 4, one branch per message type."""

    def __init__(self, app: web.Application, connection: Connection) -> None:
        self.settings = app[SETTINGS]
        self.hub = app[HUB]
        self.store = app[STORE]
        self.jobs = app[JOBS]
        self.budgets = app[BUDGETS]
        self.connection = connection
        self._closing: asyncio.Task[None] | None = None

    @property
    def client_id(self) -> str:
        return self.connection.client_id

    def tap_the_wire(self) -> asyncio.Task[None] | None:
        """Charge every frame to the rate limit as it arrives, and start the heartbeat (its task,
        None without one). See `server.wire` for why this sits in front of aiohttp."""
        transport = self.connection.request.transport
        if transport is None:  # gone already: the handler's first read ends it
            return None
        interval = self.settings.heartbeat_seconds
        heartbeat = Heartbeat(interval) if interval > 0 else None
        bucket = TokenBucket(
            self.settings.rate_per_second, self.settings.rate_burst, time.monotonic()
        )
        inner = transport.get_protocol()
        assert isinstance(inner, asyncio.Protocol)
        pong = heartbeat.pong if heartbeat is not None else (lambda payload: None)
        transport.set_protocol(WireTap(inner, bucket, self.over_rate, pong))
        if heartbeat is None:
            return None
        task = asyncio.create_task(
            heartbeat.run(self.connection.ws.ping, self.silent),
            name=f"ws-heartbeat-{self.client_id}",
        )
        task.add_done_callback(log_crash)  # a bug in it must reach the log, not vanish
        return task

    def over_rate(self) -> None:
        """The wire tap found this connection over its rate: say so, then close with 1008."""
        if self._closing is None:
            self._closing = asyncio.create_task(self._close_over_rate())

    async def _close_over_rate(self) -> None:
        log.info("client %s: over the rate limit; closing", self.client_id)
        self.connection.send(
            ErrorMessage(
                name="rate_limited",
                message=(
                    f"More than {self.settings.rate_burst} frames in a burst or "
                    f"{self.settings.rate_per_second:g} per second; closing."
                ),
            )
        )
        await self.connection.drain_and_stop()
        await self.connection.close(WSCloseCode.POLICY_VIOLATION, "rate limit exceeded")

    def silent(self) -> None:
        """The peer did not answer a ping in time: it is gone (or pretending), cut it off.

        No close frame: a peer that does not answer pings would not answer that either.
        """
        interval = self.settings.heartbeat_seconds
        log.info("client %s: no pong to a ping within %g s; closing", self.client_id, interval)
        if (transport := self.connection.request.transport) is not None:
            transport.abort()

    async def receive(self, frame: str | bytes) -> None:
        """Handle one text or binary message (already charged to the rate limit on arrival)."""
        try:
            message = parse_client_message(frame)
        except ProtocolError as exc:
            self.connection.send(exc.to_message())
            return
        if isinstance(message, ResultMessage) and not self.budgets.take(
            self.connection.address, len(frame), time.monotonic()
        ):
            per_hour = self.settings.address_bytes_per_hour
            self.connection.send(
                ErrorMessage(
                    id=message.id,
                    name="over_budget",
                    message=(
                        f"This address has stored its {per_hour:,} bytes of results for the last "
                        "hour; send it again later."
                    ),
                )
            )
            return
        await self.dispatch(message)

    async def dispatch(self, message: ClientMessage) -> None:
        """Act on one valid message."""
        match message:
            case ResultMessage():
                await self.on_result(message)
            case PingMessage():
                self.connection.send(PongMessage(id=message.id))
            case JobsJoinMessage():
                await self.jobs.join(self.client_id, message.slots)
            case JobsLeaveMessage():
                await self.leave_jobs()
            case TabsMessage():
                self.connection.tabs = message.count
                self.hub.announce_peers()
            case JobStartMessage():
                await self.on_job_start(message)
            case ChunkResultMessage():
                await self.on_chunk_result(message)
            case _:
                raise AssertionError(f"Unsupported message type {message.type!r}")

    async def on_result(self, message: ResultMessage) -> None:
        try:
            stored = await self.store.add(self.client_id, message)
        except StorageError as exc:
            # Not acked: the page keeps the result and sends it again (after a reconnect, or
            # when told the server is ok again).
            self.connection.send(ErrorMessage(id=message.id, name=exc.name, message=str(exc)))
            return
        # Ack only after the row is committed: an acked result survives a crash.
        self.connection.send(AckMessage(id=message.id, duplicate=stored is None))
        if stored is not None:
            self.hub.broadcast(PeerResultMessage(result=stored), exclude=self.client_id)

    async def on_job_start(self, message: JobStartMessage) -> None:
        try:
            duplicate = await self.jobs.start(
                message.id,
                message.samples,
                message.chunk_samples,
                message.seed,
                owner=self.connection.address,
            )
        except (JobRefused, StorageError) as exc:
            self.connection.send(ErrorMessage(id=message.id, name=exc.name, message=str(exc)))
            return
        self.connection.send(AckMessage(id=message.id, duplicate=duplicate))

    async def on_chunk_result(self, message: ChunkResultMessage) -> None:
        try:
            duplicate = await self.jobs.complete(
                self.client_id,
                message.job_id,
                message.chunk,
                message.result.inside,
                message.result.samples,
            )
        except (JobRefused, StorageError) as exc:
            self.connection.send(ErrorMessage(id=message.id, name=exc.name, message=str(exc)))
            return
        self.connection.send(AckMessage(id=message.id, duplicate=duplicate))

    async def leave_jobs(self) -> None:
        """Give back this connection's chunks (they go to other volunteers or the queue)."""
        await self.jobs.leave(self.client_id)


def log_crash(task: asyncio.Task[None]) -> None:
    """A crash of background work must reach the log when it happens, not at shutdown."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s stopped", task.get_name(), exc_info=error)


async def run_jobs(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the job engine's background work (leases, reclaiming) for the app's life."""
    task = asyncio.create_task(app[JOBS].run(), name="jobs")
    task.add_done_callback(log_crash)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
