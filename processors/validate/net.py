"""Prefixes as integers, the form every per-prefix check works on.

`ipaddress.ip_network` costs microseconds a call; the validation core handles 100,000
prefixes a second, so it parses prefix text itself: `inet_pton` plus one int conversion.
"""

from __future__ import annotations

import functools
import ipaddress
import struct
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton
from typing import NamedTuple

BITS = {4: 32, 6: 128}


class Net(NamedTuple):
    version: int  # 4 or 6
    value: int  # the network address as an unsigned integer
    length: int


_new = tuple.__new__
_from_bytes = int.from_bytes
_unpack_v4 = struct.Struct("!I").unpack


def parse_prefix(text: str) -> Net:
    """`"185.50.0.0/24"` -> Net(4, 3107061760, 24); ValueError for anything but a network."""
    address, slash, length_text = text.partition("/")
    if not (slash and length_text.isdigit() and length_text.isascii()):
        raise ValueError(f"not a prefix: {text!r}")
    try:
        if ":" in address:
            version, bits = 6, 128
            value = _from_bytes(inet_pton(AF_INET6, address), "big")
        else:  # the usual case: one struct unpack, cheaper than int.from_bytes
            version, bits = 4, 32
            value = _unpack_v4(inet_pton(AF_INET, address))[0]
    except OSError:
        raise ValueError(f"not a prefix: {text!r}") from None
    length = int(length_text)
    if length > bits or value & ((1 << (bits - length)) - 1):
        raise ValueError(f"not a network (length or host bits): {text!r}")
    return _new(Net, (version, value, length))  # Net(...) without NamedTuple's Python frame


def format_net(net: Net) -> str:
    """The canonical text form, as `ipaddress` prints it."""
    version, value, length = net
    if version == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}/{length}"
    text = inet_ntop(AF_INET6, value.to_bytes(16, "big"))
    if "." in text:  # glibc writes ::ffff:a.b.c.d where ipaddress writes hex groups
        text = ipaddress.IPv6Address(value).compressed
    return f"{text}/{length}"


@functools.lru_cache(maxsize=4096)  # next hops and peer addresses: few values, repeated
def canonical_address(text: str) -> str:
    """The compressed text form, so that "2001:DB8::0:1" and "2001:db8::1" compare equal."""
    return ipaddress.ip_address(text.strip()).compressed


def address_version(text: str) -> int:
    return 6 if ":" in text else 4
