"""The connected pages: one bounded send queue and writer task each, and broadcast to all.

Sends never await the network directly: a message is put on the connection's queue and its own
writer task drains it, so one page that stops reading cannot stall a broadcast to the others.
When a queue is full that page is disconnected (1008) instead of buffering without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSCloseCode, web

from server.protocol import Message, PeersMessage, encode

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 5.0
#: Peer counts go out at most this often: a storm of connects costs one announcement.
PEERS_DEBOUNCE_SECONDS = 0.25
# Frames a page that is behind may miss (encode() writes `type` first, so a prefix names them).
DROPPABLE = tuple(f'{{"type":"{kind}"' for kind in ("peer_result", "peers"))


class Connection:
    """One page's socket, with the queue that is the only way to write to it."""

    def __init__(
        self,
        client_id: str,
        request: web.Request,
        ws: web.WebSocketResponse,
        queue_size: int,
    ) -> None:
        self.client_id = client_id
        self.request = request
        #: The client's IP address (behind a trusted proxy, the forwarded one: server/clients.py):
        #: what per-address limits count by.
        self.address = request.remote or ""
        self.ws = ws
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        #: Broadcasts skipped because this page was behind (see `send_text`).
        self.skipped = 0
        #: How many browser tabs share this connection (see TabsMessage).
        self.tabs = 1

    @property
    def closing(self) -> bool:
        """True once this connection is being closed (sends are refused from then on)."""
        return self._closing

    def start(self) -> None:
        """Start the writer task; call once the socket is prepared."""
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.client_id}")

    def send(self, message: Message) -> bool:
        """Queue a message; returns False (and starts closing) when the queue is full."""
        text = encode_or_log(message)
        return True if text is None else self.send_text(text)

    def send_text(self, text: str) -> bool:
        """Queue an already-encoded frame (a broadcast encodes once for everyone).

        Fair back-pressure: once the queue is half full, news a page can do without (other
        pages' results, peer counts) is skipped for it rather than queued, so a busy neighbour
        within the rate limit makes a slow page miss news, not lose its connection. Only a page
        whose queue fills with what it must get (acks, pongs, chunks, progress) is dropped.
        """
        if self._closing:
            return False
        if text.startswith(DROPPABLE) and self._queue.qsize() >= self._queue.maxsize // 2:
            self.skipped += 1
            return True
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("client %s is not reading; disconnecting it", self.client_id)
            self.close_soon(WSCloseCode.POLICY_VIOLATION, "send queue full: not reading")
            return False
        return True

    def close_soon(self, code: int, reason: str) -> None:
        """Close a page that is not reading, without making the caller wait for it."""
        if self._closing:
            return
        self._closing = True
        task = asyncio.create_task(self.close(code, reason, stuck=True))
        _background.add(task)
        task.add_done_callback(_background.discard)

    async def close(self, code: int, reason: str, *, stuck: bool = False) -> None:
        """Stop writing and close the socket with `code`.

        Args:
            code: the WebSocket close code.
            reason: the close reason (a short sentence).
            stuck: the peer is not reading. Its close frame may never get out, and a graceful
                transport close would wait for the unsent backlog forever, so the connection is
                aborted once the close frame is queued (or the attempt times out).
        """
        self._closing = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=reason.encode(), drain=not stuck)
        except Exception as exc:
            log.info("client %s: closing abruptly (%r)", self.client_id, exc)
            stuck = True
        if stuck and (transport := self.request.transport) is not None:
            # The close frame sits behind the backlog: give a slow reader the time to reach it
            # (so it learns the documented 1008, not 1006), then cut the connection regardless.
            # (Polled: asyncio offers no event for "the transport's buffer drained".)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + CLOSE_TIMEOUT
            while transport.get_write_buffer_size() and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            transport.abort()

    async def drain_and_stop(self) -> None:
        """Let the writer send what is queued, then stop it (the handler is ending)."""
        if self._writer is None or self._writer.done():
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._writer
        except TimeoutError:
            self._writer.cancel()

    async def _write(self) -> None:
        while (text := await self._queue.get()) is not None:
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except ConnectionError:
                return


def encode_or_log(message: Message) -> str | None:
    """The frame's text, or None (logged) for a message that cannot be encoded.

    The door (`parse_client_message`) refuses what could not be re-encoded, so this is a last
    line: one bad message must never kill a connection's handler or a broadcast to everyone.
    """
    try:
        return encode(message)
    except (ValueError, RecursionError) as exc:
        log.error(
            "dropping a %s message that cannot be encoded: %s", message.__class__.__name__, exc
        )
        return None


# Fire-and-forget close tasks, referenced so the event loop does not garbage-collect them.
_background: set[asyncio.Task[None]] = set()


class Hub:
    """Every open connection, by client id."""

    def __init__(self) -> None:
        self.connections: dict[str, Connection] = {}
        self._peers_timer: asyncio.TimerHandle | None = None
        self._peers_sent: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.connections)

    def add(self, connection: Connection) -> None:
        """Register a connection and tell everyone the new peer count."""
        self.connections[connection.client_id] = connection
        self.announce_peers()

    def remove(self, connection: Connection) -> None:
        """Forget a connection and tell the rest the new peer count."""
        if self.connections.pop(connection.client_id, None) is not None:
            self.announce_peers()

    def broadcast(self, message: Message, exclude: str | None = None) -> int:
        """Queue `message` for everyone but `exclude`; returns how many it was queued for."""
        text = encode_or_log(message)
        return 0 if text is None else self.deliver(text, exclude)

    def deliver(self, text: str, exclude: str | None = None) -> int:
        """Queue an encoded message for this process's pages but `exclude`; returns how many."""
        sent = 0
        for client_id, connection in list(self.connections.items()):
            if client_id != exclude and connection.send_text(text):
                sent += 1
        return sent

    def announce_peers(self) -> None:
        """Tell every connection the number of connected pages, soon (debounced).

        Changes within PEERS_DEBOUNCE_SECONDS coalesce into one `peers` message, so churn among
        thousands of pages costs one broadcast, not one per connect; none is sent when the count
        ends where it was.
        """
        if self._peers_timer is None:
            loop = asyncio.get_running_loop()
            self._peers_timer = loop.call_later(PEERS_DEBOUNCE_SECONDS, self._send_peers)

    def _send_peers(self) -> None:
        self._peers_timer = None
        connections = len(self.connections)
        tabs = sum(connection.tabs for connection in self.connections.values())
        if (connections, tabs) != self._peers_sent:
            self._peers_sent = (connections, tabs)
            self.broadcast(PeersMessage(connections=connections, tabs=tabs))

    async def close_all(self, code: int, reason: str) -> None:
        """Close every connection (shutdown: 1001 Going Away)."""
        if self._peers_timer is not None:
            self._peers_timer.cancel()
            self._peers_timer = None
        await asyncio.gather(
            *(c.close(code, reason) for c in list(self.connections.values())),
            return_exceptions=True,
        )
