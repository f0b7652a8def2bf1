"""The `/ws` endpoint: aiohttp I/O around the protocol (parsing, jobs and limits live elsewhere)."""

from __future__ import annotations

import logging
import secrets
import time

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from server import __version__
from server.config import Settings
from server.hub import Connection, Hub
from server.jobs import JobBoard
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
from server.store import Store

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", Hub)
STORE = web.AppKey("store", Store)
JOBS = web.AppKey("jobs", JobBoard)


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
        heartbeat=settings.heartbeat_seconds,
    )
    await ws.prepare(request)

    hub = request.app[HUB]
    client_id = secrets.token_hex(6)
    connection = Connection(client_id, request, ws, settings.send_queue_size)
    connection.start()
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
            ),
        )
    )
    hub.add(connection)
    session = Session(request.app, connection)
    try:
        async for frame in ws:
            if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                if not await session.receive(frame.data):
                    break
            elif frame.type == WSMsgType.ERROR:
                # aiohttp has already closed with the right code (1009 for an oversized frame).
                log.info("client %s: %s", client_id, ws.exception())
                break
    finally:
        hub.remove(connection)
        session.leave_jobs()
        await connection.drain_and_stop()
    return ws


class Session:
    """One connection's message handling: the rules of issue 4, one branch per message type."""

    def __init__(self, app: web.Application, connection: Connection) -> None:
        self.settings = app[SETTINGS]
        self.hub = app[HUB]
        self.store = app[STORE]
        self.jobs = app[JOBS]
        self.connection = connection
        self.bucket = TokenBucket(
            self.settings.rate_per_second, self.settings.rate_burst, time.monotonic()
        )

    @property
    def client_id(self) -> str:
        return self.connection.client_id

    async def receive(self, frame: str | bytes) -> bool:
        """Handle one frame; returns False when the connection must end."""
        if not self.bucket.allow(time.monotonic()):
            self.connection.send(
                ErrorMessage(
                    name="rate_limited",
                    message=(
                        f"More than {self.settings.rate_burst} messages in a burst or "
                        f"{self.settings.rate_per_second:g} per second; closing."
                    ),
                )
            )
            await self.connection.drain_and_stop()
            await self.connection.close(WSCloseCode.POLICY_VIOLATION, "rate limit exceeded")
            return False
        try:
            message = parse_client_message(frame)
        except ProtocolError as exc:
            self.connection.send(exc.to_message())
            return True
        await self.dispatch(message)
        return True

    async def dispatch(self, message: ClientMessage) -> None:
        """Act on one valid message."""
        match message:
            case ResultMessage():
                await self.on_result(message)
            case PingMessage():
                self.connection.send(PongMessage(id=message.id))
            case JobsJoinMessage():
                self.jobs_send(self.jobs.join(self.client_id, message.slots))
            case JobsLeaveMessage():
                self.leave_jobs()
            case TabsMessage():
                self.connection.tabs = message.count
                self.hub.announce_peers()
            case JobStartMessage():
                self.on_job_start(message)
            case ChunkResultMessage():
                self.on_chunk_result(message)
            case _:
                raise AssertionError(f"Unsupported message type {message.type!r}")

    async def on_result(self, message: ResultMessage) -> None:
        stored = await self.store.add(self.client_id, message)
        # Ack only after the row is committed: an acked result survives a crash.
        self.connection.send(AckMessage(id=message.id, duplicate=stored is None))
        if stored is not None:
            self.hub.broadcast(PeerResultMessage(result=stored), exclude=self.client_id)

    def on_job_start(self, message: JobStartMessage) -> None:
        try:
            update = self.jobs.start(
                message.id, message.samples, message.chunk_samples, message.seed
            )
        except ValueError as exc:
            self.connection.send(ErrorMessage(id=message.id, name="invalid_job", message=str(exc)))
            return
        self.connection.send(AckMessage(id=message.id, duplicate=update.duplicate))
        self.jobs_send(update)

    def on_chunk_result(self, message: ChunkResultMessage) -> None:
        try:
            update = self.jobs.complete(message.job_id, message.chunk, message.result)
        except ValueError as exc:
            self.connection.send(
                ErrorMessage(id=message.id, name="invalid_chunk", message=str(exc))
            )
            return
        self.connection.send(AckMessage(id=message.id, duplicate=update.duplicate))
        self.jobs_send(update)

    def leave_jobs(self) -> None:
        """Give back this connection's chunks (they go to other volunteers or the queue)."""
        self.jobs_send(self.jobs.leave(self.client_id))

    def jobs_send(self, update: JobBoard.Update) -> None:
        """Deliver what the job board decided: chunks to their pages, progress to everyone."""
        for assignment in update.assignments:
            target = self.hub.connections.get(assignment.client_id)
            if target is None or not target.send(assignment.message):
                # Its page is gone or stuck: put the chunk back for someone else.
                self.jobs_send(self.jobs.leave(assignment.client_id))
        for progress in update.progress:
            self.hub.broadcast(progress)
