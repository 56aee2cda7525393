"""A hand-driven BGP session from a Host, for bytes no daemon will send (malformed messages).

ExaBGP can add arbitrary path attributes but not rewrite the ones it builds itself, nor
break headers, lengths or NLRI; this sends exactly the bytes a test gives.

    with RawSession.connect(host, rs_address) as s:
        s.open(asn=20002, router_id=host.v4)     # OPEN out, the peer's OPEN back, KEEPALIVEs
        s.send(header(UPDATE, body))             # anything at all
        kind, body = s.receive()                 # e.g. NOTIFICATION, (3, 1)
"""

from __future__ import annotations

import ctypes
import ipaddress
import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType

from tests.lab.netns import Host

OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5
MARKER = b"\xff" * 16
AS_TRANS = 23456
_CLONE_NEWNET = 0x40000000


def header(kind: int, body: bytes = b"", length: int | None = None) -> bytes:
    """A message: marker, length (default: the true one), type, body."""
    return MARKER + struct.pack("!HB", 19 + len(body) if length is None else length, kind) + body


def open_body(
    asn: int,
    router_id: str,
    hold_time: int = 90,
    families: tuple[tuple[int, int], ...] = ((1, 1),),
    asn4: bool = True,
) -> bytes:
    """An OPEN with multiprotocol capabilities, and the 4-octet-AS one unless asn4=False."""
    caps = b"".join(struct.pack("!BBHBB", 1, 4, afi, 0, safi) for afi, safi in families)
    if asn4:
        caps += struct.pack("!BBI", 65, 4, asn)
    params = struct.pack("!BB", 2, len(caps)) + caps
    my_as = asn if asn <= 0xFFFF else AS_TRANS
    rid = ipaddress.IPv4Address(router_id).packed
    return struct.pack("!BHH4sB", 4, my_as, hold_time, rid, len(params)) + params


def _socket_in_namespace(host: Host, family: int) -> socket.socket:
    if host.namespace is None:
        return socket.socket(family, socket.SOCK_STREAM)
    # setns() moves only the calling thread, and a socket keeps the namespace it was made
    # in: make it in a throwaway thread so the test process itself never moves.
    made: list[socket.socket | BaseException] = []

    def make() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            with open(f"/run/netns/{host.namespace}") as ns:
                if libc.setns(ns.fileno(), _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            made.append(socket.socket(family, socket.SOCK_STREAM))
        except BaseException as exc:
            made.append(exc)

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]


@dataclass
class RawSession:
    sock: socket.socket
    timeout: float = 10.0
    _buffer: bytes = field(default=b"", repr=False)

    @classmethod
    def connect(
        cls, host: Host, address: str, port: int = 179, timeout: float = 10.0
    ) -> RawSession:
        """TCP to address:port from the host's own address of that family."""
        v6 = ":" in address
        sock = _socket_in_namespace(host, socket.AF_INET6 if v6 else socket.AF_INET)
        try:
            sock.settimeout(timeout)
            sock.bind((host.address(6 if v6 else 4), 0))
            sock.connect((address, port))
        except BaseException:
            sock.close()
            raise
        return cls(sock, timeout)

    def __enter__(self) -> RawSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, message: bytes) -> None:
        self.sock.sendall(message)

    def receive(self) -> tuple[int, bytes]:
        """The next whole message as (type, body); raises EOFError when the peer closed."""
        head = self._read(19)
        length, kind = struct.unpack("!HB", head[16:19])
        return kind, self._read(length - 19)

    def receive_until(self, kind: int) -> bytes:
        """Skip messages until one of `kind` arrives (e.g. the KEEPALIVEs before an UPDATE)."""
        while True:
            got, body = self.receive()
            if got == kind:
                return body
            if got == NOTIFICATION:
                raise AssertionError(f"NOTIFICATION {body[:2].hex()} while waiting for {kind}")

    def open(
        self,
        asn: int,
        router_id: str,
        hold_time: int = 90,
        families: tuple[tuple[int, int], ...] = ((1, 1),),
        asn4: bool = True,
    ) -> bytes:
        """OPEN, then KEEPALIVE both ways: Established. Returns the peer's OPEN body."""
        self.send(header(OPEN, open_body(asn, router_id, hold_time, families, asn4)))
        theirs = self.receive_until(OPEN)
        self.send(header(KEEPALIVE))
        self.receive_until(KEEPALIVE)
        return theirs

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the peer closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data
