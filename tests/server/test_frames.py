"""Frame boundaries found in bytes however they are cut: every kind counted, pongs read back."""

from __future__ import annotations

import pytest

from server.frames import FrameScanner


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bytes = b"") -> bytes:
    """One frame on the wire; `mask` (4 bytes) masks it as a client must."""
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    mask_bit = 0x80 if mask else 0
    if size < 126:
        head = bytes([first, mask_bit | size])
    elif size < 1 << 16:
        head = bytes([first, mask_bit | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([first, mask_bit | 127]) + size.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if mask else payload
    return head + mask + body


STREAM = b"".join(
    [
        frame(0x1, b"hello", mask=b"abcd"),
        frame(0x1, b"", fin=False, mask=b"abcd"),
        frame(0x0, b"", fin=False),
        frame(0x0, b"x" * 300, mask=b"wxyz"),  # a 16-bit length
        frame(0x2, b"y" * 70_000, mask=b"1234"),  # a 64-bit length
        frame(0x9, b"ping"),
        frame(0xA, b"token-1", mask=b"\x01\x02\x03\x04"),
        frame(0xA, b""),
        frame(0x8, b"\x03\xe8", mask=b"mask"),
    ]
)


def test_every_frame_of_every_kind_is_counted_once() -> None:
    scanner = FrameScanner()
    assert scanner.feed(STREAM) == 9
    assert scanner.pongs == [b"token-1", b""]


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 1000])
def test_the_count_does_not_depend_on_how_the_bytes_are_cut(piece: int) -> None:
    scanner = FrameScanner()
    counted = sum(scanner.feed(STREAM[at : at + piece]) for at in range(0, len(STREAM), piece))
    assert counted == 9
    assert scanner.pongs == [b"token-1", b""]


def test_a_frame_is_counted_when_its_header_is_complete_not_when_its_payload_is() -> None:
    scanner = FrameScanner()
    whole = frame(0x1, b"z" * 100, mask=b"abcd")
    assert scanner.feed(whole[:1]) == 0
    assert scanner.feed(whole[1:6]) == 1  # header and mask: counted now
    assert scanner.feed(whole[6:50]) == 0  # the payload trickling in adds nothing
    assert scanner.feed(whole[50:] + frame(0xA)) == 1
