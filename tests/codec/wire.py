"""Hand-assembly of messages from the RFC formats, for byte-level tests."""

from __future__ import annotations

import struct

MARKER = b"\xff" * 16


def message(kind: int, body: bytes, length: int | None = None) -> bytes:
    size = 19 + len(body) if length is None else length
    return MARKER + struct.pack("!HB", size, kind) + body


def attr(flags: int, code: int, value: bytes) -> bytes:
    """A path attribute; the length takes two octets if flags say Extended Length."""
    if flags & 0x10:
        return struct.pack("!BBH", flags, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def update(withdrawn: bytes = b"", attrs: bytes = b"", nlri: bytes = b"") -> bytes:
    body = struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs))
    return message(2, body + attrs + nlri)


def open_body(
    params: bytes,
    version: int = 4,
    my_as: int = 65001,
    hold: int = 90,
    bgp_id: bytes = b"\xc0\x00\x02\x01",
) -> bytes:
    return struct.pack("!BHH4sB", version, my_as, hold, bgp_id, len(params)) + params


ORIGIN_IGP = attr(0x40, 1, b"\x00")
AS_PATH_4 = attr(0x40, 2, b"\x02\x02" + struct.pack("!II", 65001, 4200000000))
AS_PATH_2 = attr(0x40, 2, b"\x02\x02" + struct.pack("!HH", 65001, 23456))
NEXT_HOP = attr(0x40, 3, bytes((192, 0, 2, 1)))
MANDATORY = ORIGIN_IGP + AS_PATH_4 + NEXT_HOP
NLRI = b"\x18\xc6\x33\x64"  # 198.51.100.0/24
WITHDRAWN = b"\x10\x0a\x01"  # 10.1.0.0/16


def mp_reach_v6(nlri: bytes = b"\x20\x20\x01\x0d\xb8", next_hop_len: int = 16) -> bytes:
    next_hop = bytes.fromhex("20010db8000000000000000000000001").ljust(next_hop_len, b"\x00")
    value = struct.pack("!HBB", 2, 1, next_hop_len) + next_hop[:next_hop_len] + b"\x00" + nlri
    return attr(0x80, 14, value)
