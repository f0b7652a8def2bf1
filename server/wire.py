"""A `/ws` connection's bytes as they arrive: every frame charged to its rate limit, and a
heartbeat that only an answer to its ping satisfies.

Why a protocol in front of aiohttp's, installed with asyncio's public `transport.set_protocol`:
the limit must be charged when a frame *arrives*, not when the handler gets round to it. A
handler waiting on the store (a 5 s SQLite lock, a Redis stall) reads nothing meanwhile; charged
at processing, an honest page's frames queued during the stall were one burst when finally read,
and the page was closed. aiohttp's parser (`_websocket/reader_c`, compiled) offers no per-frame
hook: its `_handle_frame` is a C method, it swallows fragments and empty continuations without
queueing anything, and its `data_received_cb` is told "some bytes came", not which frames. Its
`WebSocketResponse` heartbeat counts any byte as life (a peer trickling one byte of an unfinished
frame was never closed). So this module sees the bytes first, in `data_received`, finds the frame
boundaries itself (`server.frames`), then hands the bytes on unchanged. The seam is asyncio's,
not aiohttp's private attributes, so it holds across aiohttp versions and the compiled/pure
parsers alike, and with TLS (an SSL transport supports `set_protocol` too).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from server.frames import FrameScanner
from server.ratelimit import TokenBucket

log = logging.getLogger(__name__)


class WireTap(asyncio.Protocol):
    """Sits between a connection's transport and aiohttp's protocol for it.

    Each piece of data is scanned as it arrives and its frames charged to `bucket` at that
    moment (pings, pongs, continuations and close frames too). Over the limit, `over_limit` is
    called once and nothing more reaches aiohttp: the flood costs a scan of its first pieces,
    then only the reading. Pongs' payloads go to `pong`.
    """

    def __init__(
        self,
        inner: asyncio.Protocol,
        bucket: TokenBucket,
        over_limit: Callable[[], None],
        pong: Callable[[bytes], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.bucket = bucket
        self.over_limit = over_limit
        self.pong = pong
        self.clock = clock
        self.scanner = FrameScanner()
        self.tripped = False

    def data_received(self, data: bytes) -> None:
        if self.tripped:
            return
        frames = self.scanner.feed(data)
        if frames and not self.bucket.allow(self.clock(), frames):
            self.tripped = True
            self.over_limit()
            return
        for payload in self.scanner.pongs:
            self.pong(payload)
        self.scanner.pongs.clear()
        self.inner.data_received(data)

    # Everything else is aiohttp's business, passed on as is.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()


class Heartbeat:
    """Every `interval` seconds a ping with a fresh payload; a peer whose pong with that payload
    has not arrived by the next one is dead, whatever else it sends.

    So a peer that went silent is found within about two intervals. Only a pong counts, and only
    the answer to the last ping: browsers answer pings by themselves, below the page's script,
    so a busy page still answers; a peer that trickles bytes of a frame it never finishes, or
    sends pongs of its own, does not.
    """

    PAYLOAD_BYTES = 8

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._awaiting: bytes | None = None

    def pong(self, payload: bytes) -> None:
        """A pong arrived (see `WireTap`)."""
        if payload == self._awaiting:
            self._awaiting = None

    async def run(self, ping: Callable[[bytes], Awaitable[None]], dead: Callable[[], None]) -> None:
        """Ping until the peer misses one; then call `dead` and return."""
        while True:
            await asyncio.sleep(self.interval)
            if self._awaiting is not None:
                break
            self._awaiting = payload = secrets.token_bytes(self.PAYLOAD_BYTES)
            try:
                # A peer that does not read cannot even take the ping: that is silence too.
                async with asyncio.timeout(self.interval):
                    await ping(payload)
            except TimeoutError:
                break
            except ConnectionError:
                return  # already gone; the handler is ending
        dead()
