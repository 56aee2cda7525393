"""A minimal BGP speaker for tests: a real TCP socket from a chosen loopback address.

It uses ixrs's own codec to build and read messages, and sends raw bytes for the
malformed-input tests.
"""

from __future__ import annotations

import socket
import time

from speaker.codec import (
    AS_TRANS,
    KEEPALIVE,
    FourOctetAs,
    Keepalive,
    Message,
    Multiprotocol,
    Negotiated,
    Notification,
    Open,
    Reader,
    RouteRefreshCapability,
    Update,
    encode,
    negotiate,
)


class BgpTestClient:
    def __init__(self, local: str, server: tuple[str, int], asn: int, *, hold_time: int = 90,
                 four_octet: bool = True, bgp_id: str | None = None) -> None:
        self.local, self.server, self.asn = local, server, asn
        caps = [Multiprotocol(1, 1), Multiprotocol(2, 1), RouteRefreshCapability()]
        if four_octet:
            caps.append(FourOctetAs(asn))
        self.open_message = Open(my_as=asn if asn <= 0xFFFF else AS_TRANS, hold_time=hold_time,
                                 bgp_id=bgp_id or local, capabilities=tuple(caps))
        self.negotiated = Negotiated(four_octet_as=four_octet)
        self.reader = Reader()
        self.sock: socket.socket | None = None

    def connect(self) -> BgpTestClient:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.local, 0))
        sock.settimeout(10)
        sock.connect(self.server)
        self.sock = sock
        return self

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(data)

    def send_message(self, message: Message) -> None:
        self.send(encode(message, self.negotiated))

    def recv(self, timeout: float = 10.0) -> Message | None:
        """The next message, or None when the server closed the connection."""
        assert self.sock is not None
        deadline = time.monotonic() + timeout
        while True:
            message = self.reader.next_message()
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from the speaker")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.reader.feed(data)

    def establish(self) -> Open:
        self.connect()
        self.send_message(self.open_message)
        remote = self.recv()
        assert isinstance(remote, Open), remote
        self.negotiated = negotiate(self.open_message, remote)
        self.reader.negotiated = self.negotiated
        self.send(KEEPALIVE)
        assert isinstance(self.recv(), Keepalive)
        return remote

    def expect_notification(self, timeout: float = 10.0) -> Notification:
        while True:
            message = self.recv(timeout)
            if isinstance(message, Notification):
                return message
            if message is None:
                raise AssertionError("connection closed without a NOTIFICATION")

    def expect_closed(self, timeout: float = 10.0) -> None:
        while True:
            message = self.recv(timeout)
            if message is None:
                return

    def announce(self, update: Update) -> None:
        self.send_message(update)

    def keepalive(self) -> None:
        self.send(KEEPALIVE)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
