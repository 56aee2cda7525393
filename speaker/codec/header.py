"""The 19-octet message header (RFC 4271 §4.1) and its checks (§6.1)."""

from __future__ import annotations

import struct

from speaker.codec.errors import BgpError, ErrorCode, HeaderSubcode
from speaker.codec.messages import MessageType
from speaker.codec.negotiated import MAX_MESSAGE_SIZE, Negotiated

HEADER_SIZE = 19
MARKER = b"\xff" * 16

# RFC 4271 §4.2-4.5 and RFC 2918 §3: the smallest legal length of each type.
_MIN_LENGTH = {
    MessageType.OPEN: 29,
    MessageType.UPDATE: 23,
    MessageType.NOTIFICATION: 21,
    MessageType.KEEPALIVE: 19,
    MessageType.ROUTE_REFRESH: 23,
}
# RFC 8654 §3: OPEN and KEEPALIVE never grow past 4096, whatever was negotiated.
_NEVER_EXTENDED = (MessageType.OPEN, MessageType.KEEPALIVE)


def _bad_length(length: int) -> BgpError:
    return BgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_LENGTH,
        struct.pack("!H", length),
        f"bad message length {length}",
    )


def check_header(header: bytes, negotiated: Negotiated) -> tuple[int, int]:
    """(type, length) of a message, from its first 19 octets."""
    if header[:16] != MARKER:
        raise BgpError(
            ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, b"", "bad marker"
        )
    length, kind = struct.unpack_from("!HB", header, 16)
    if length < HEADER_SIZE or length > negotiated.max_message_size:
        raise _bad_length(length)
    minimum = _MIN_LENGTH.get(kind)
    if minimum is None:
        raise BgpError(
            ErrorCode.MESSAGE_HEADER,
            HeaderSubcode.BAD_MESSAGE_TYPE,
            bytes((kind,)),
            f"unknown message type {kind}",
        )
    if length < minimum:
        raise _bad_length(length)
    if kind == MessageType.KEEPALIVE and length != HEADER_SIZE:
        raise _bad_length(length)
    if kind in _NEVER_EXTENDED and length > MAX_MESSAGE_SIZE:
        raise _bad_length(length)
    return kind, length


def frame(kind: int, body: bytes, max_size: int) -> bytes:
    """Header + body. Raises ValueError if the message would be too long."""
    length = HEADER_SIZE + len(body)
    if length > max_size:
        raise ValueError(f"message of {length} octets exceeds {max_size}")
    return MARKER + struct.pack("!HB", length, kind) + body
