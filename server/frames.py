"""WebSocket frame headers as they come off the wire (RFC 6455 §5.2): counted, not decoded.

No I/O and no aiohttp: `FrameScanner.feed` is given the bytes a connection received, in
whatever pieces they arrived, and says how many frames began in them, of every kind (text,
binary, continuation, ping, pong, close); it keeps the payload of pongs only (at most 125
bytes), so the heartbeat can tell an answer to its ping. Payloads are skipped by length, never
copied, so a 64 KiB frame costs what a two-byte one does. aiohttp's own parser still decides
what the frames mean and refuses malformed ones; this only has to agree with it about where
each frame starts, which the wire format fixes.
"""

from __future__ import annotations

OPCODE_PONG = 0xA
#: How many bytes of a frame's header follow its first two, by the 7-bit length field.
_EXTENDED = {126: 2, 127: 8}


class FrameScanner:
    """Finds frame boundaries in a byte stream fed piece by piece."""

    def __init__(self) -> None:
        self._header = bytearray()  # the current frame's header, while incomplete
        self._skip = 0  # payload bytes of the current frame still to come
        self._pong: bytearray | None = None  # a pong's payload, while it arrives
        self._mask = b""
        self.pongs: list[bytes] = []
        """Payloads of the pongs completed so far (unmasked); the caller empties it."""

    def feed(self, data: bytes) -> int:
        """Scan `data`; returns the number of frames whose header completed in it.

        A frame is counted when its header is complete: an empty frame is a whole frame, and a
        frame trickled a byte at a time counts once, when its length is known.
        """
        frames = 0
        view = memoryview(data)
        at, end = 0, len(data)
        while at < end:
            if self._skip:
                take = min(self._skip, end - at)
                if self._pong is not None:
                    self._pong += view[at : at + take]
                at += take
                self._skip -= take
                if not self._skip:
                    self._finish_pong()
                continue
            needed = self._header_length()
            take = min(needed - len(self._header), end - at)
            self._header += view[at : at + take]
            at += take
            if len(self._header) < self._header_length():  # the length field may need more
                continue
            frames += 1
            self._start_payload()
        return frames

    def _header_length(self) -> int:
        if len(self._header) < 2:
            return 2
        second = self._header[1]
        return 2 + _EXTENDED.get(second & 0x7F, 0) + (4 if second & 0x80 else 0)

    def _start_payload(self) -> None:
        header = self._header
        length = header[1] & 0x7F
        extended = _EXTENDED.get(length, 0)
        if extended:
            length = int.from_bytes(header[2 : 2 + extended], "big")
        self._mask = bytes(header[2 + extended : 6 + extended]) if header[1] & 0x80 else b""
        is_pong = header[0] & 0x0F == OPCODE_PONG
        self._header = bytearray()
        self._skip = length
        self._pong = bytearray() if is_pong and length <= 125 else None
        if not length:
            self._finish_pong()

    def _finish_pong(self) -> None:
        if self._pong is None:
            return
        payload, mask = self._pong, self._mask
        if mask:
            payload = bytearray(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.pongs.append(bytes(payload))
        self._pong = None
