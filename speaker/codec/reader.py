"""A framer: feed it the bytes of a TCP stream, take whole messages out."""

from __future__ import annotations

from collections.abc import Iterator

from speaker.codec.decode import decode_body
from speaker.codec.header import HEADER_SIZE, check_header
from speaker.codec.messages import Message
from speaker.codec.negotiated import Negotiated


class Reader:
    """Splits a byte stream into BGP messages.

    ``negotiated`` may be replaced once the OPENs are exchanged; until then the
    default applies (4096-octet messages). Header errors are raised as soon as
    the 19 header octets are in, before the body arrives.
    """

    def __init__(self, negotiated: Negotiated | None = None) -> None:
        self.negotiated = negotiated if negotiated is not None else Negotiated()
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def buffered(self) -> int:
        return len(self._buffer)

    def next_frame(self) -> bytes | None:
        """The next whole message, header checked but body not decoded."""
        buffer = self._buffer
        if len(buffer) < HEADER_SIZE:
            return None
        _, length = check_header(bytes(buffer[:HEADER_SIZE]), self.negotiated)
        if len(buffer) < length:
            return None
        data = bytes(buffer[:length])
        del buffer[:length]
        return data

    def next_message(self) -> Message | None:
        data = self.next_frame()
        if data is None:
            return None
        return decode_body(data[HEADER_SIZE - 1], data[HEADER_SIZE:], self.negotiated)

    def __iter__(self) -> Iterator[Message]:
        while (message := self.next_message()) is not None:
            yield message
