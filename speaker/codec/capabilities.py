"""Capabilities advertised in OPEN (RFC 5492), as typed values.

Each known capability is a small frozen value; anything else is kept verbatim
as :class:`UnknownCapability` so it can be logged and, if need be, echoed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from speaker.codec.errors import Malformed


class CapabilityCode(IntEnum):
    MULTIPROTOCOL = 1  # RFC 4760
    ROUTE_REFRESH = 2  # RFC 2918
    EXTENDED_MESSAGE = 6  # RFC 8654
    BGP_ROLE = 9  # RFC 9234
    GRACEFUL_RESTART = 64  # RFC 4724
    FOUR_OCTET_AS = 65  # RFC 6793
    ADD_PATH = 69  # RFC 7911
    ENHANCED_ROUTE_REFRESH = 70  # RFC 7313
    ROUTE_REFRESH_CISCO = 128  # pre-standard code of RFC 2918's capability


class Role(IntEnum):
    """BGP Role values (RFC 9234 §4.1)."""

    PROVIDER = 0
    RS = 1
    RS_CLIENT = 2
    CUSTOMER = 3
    PEER = 4


class AddPathMode(IntEnum):
    """Send/Receive field of the ADD-PATH capability (RFC 7911 §4)."""

    RECEIVE = 1
    SEND = 2
    BOTH = 3


@dataclass(frozen=True, slots=True)
class Multiprotocol:
    afi: int
    safi: int


@dataclass(frozen=True, slots=True)
class RouteRefreshCapability:
    code: int = CapabilityCode.ROUTE_REFRESH  # 2, or Cisco's 128


@dataclass(frozen=True, slots=True)
class EnhancedRouteRefresh:
    pass


@dataclass(frozen=True, slots=True)
class ExtendedMessage:
    pass


@dataclass(frozen=True, slots=True)
class FourOctetAs:
    asn: int


@dataclass(frozen=True, slots=True)
class BgpRole:
    role: int  # a Role value; others are kept so the session can refuse them


@dataclass(frozen=True, slots=True)
class GracefulRestartFamily:
    afi: int
    safi: int
    forwarding_preserved: bool


@dataclass(frozen=True, slots=True)
class GracefulRestart:
    restart_state: bool  # R bit: the sender has restarted
    notification: bool  # N bit, RFC 8538: graceful restart after NOTIFICATION too
    restart_time: int  # seconds, 12 bits
    families: tuple[GracefulRestartFamily, ...] = ()


@dataclass(frozen=True, slots=True)
class AddPathFamily:
    afi: int
    safi: int
    mode: int  # an AddPathMode value


@dataclass(frozen=True, slots=True)
class AddPath:
    families: tuple[AddPathFamily, ...]


@dataclass(frozen=True, slots=True)
class UnknownCapability:
    code: int
    value: bytes


Capability = (
    Multiprotocol
    | RouteRefreshCapability
    | EnhancedRouteRefresh
    | ExtendedMessage
    | FourOctetAs
    | BgpRole
    | GracefulRestart
    | AddPath
    | UnknownCapability
)

_GR_RESTART_STATE = 0x8000
_GR_NOTIFICATION = 0x4000
_GR_TIME = 0x0FFF
_GR_FORWARDING = 0x80


def _expect_length(value: bytes, length: int, name: str) -> None:
    if len(value) != length:
        raise Malformed(f"{name} capability length {len(value)}, expected {length}")


def _multiprotocol(value: bytes) -> Capability:
    _expect_length(value, 4, "multiprotocol")
    afi, _reserved, safi = struct.unpack("!HBB", value)
    return Multiprotocol(afi, safi)


def _route_refresh(code: int) -> Callable[[bytes], Capability]:
    def decode(value: bytes) -> Capability:
        _expect_length(value, 0, "route refresh")
        return RouteRefreshCapability(code)

    return decode


def _enhanced_route_refresh(value: bytes) -> Capability:
    _expect_length(value, 0, "enhanced route refresh")
    return EnhancedRouteRefresh()


def _extended_message(value: bytes) -> Capability:
    _expect_length(value, 0, "extended message")
    return ExtendedMessage()


def _four_octet_as(value: bytes) -> Capability:
    _expect_length(value, 4, "4-octet AS")
    return FourOctetAs(int.from_bytes(value, "big"))


def _bgp_role(value: bytes) -> Capability:
    _expect_length(value, 1, "BGP role")
    return BgpRole(value[0])


def _graceful_restart(value: bytes) -> Capability:
    if len(value) < 2 or (len(value) - 2) % 4:
        raise Malformed(f"graceful restart capability length {len(value)}")
    (head,) = struct.unpack_from("!H", value)
    families = tuple(
        GracefulRestartFamily(afi, safi, bool(flags & _GR_FORWARDING))
        for afi, safi, flags in struct.iter_unpack("!HBB", value[2:])
    )
    return GracefulRestart(
        restart_state=bool(head & _GR_RESTART_STATE),
        notification=bool(head & _GR_NOTIFICATION),
        restart_time=head & _GR_TIME,
        families=families,
    )


def _add_path(value: bytes) -> Capability:
    if len(value) % 4:
        raise Malformed(f"ADD-PATH capability length {len(value)}")
    return AddPath(tuple(AddPathFamily(*f) for f in struct.iter_unpack("!HBB", value)))


_DECODERS: dict[int, Callable[[bytes], Capability]] = {
    CapabilityCode.MULTIPROTOCOL: _multiprotocol,
    CapabilityCode.ROUTE_REFRESH: _route_refresh(CapabilityCode.ROUTE_REFRESH),
    CapabilityCode.ROUTE_REFRESH_CISCO: _route_refresh(CapabilityCode.ROUTE_REFRESH_CISCO),
    CapabilityCode.ENHANCED_ROUTE_REFRESH: _enhanced_route_refresh,
    CapabilityCode.EXTENDED_MESSAGE: _extended_message,
    CapabilityCode.FOUR_OCTET_AS: _four_octet_as,
    CapabilityCode.BGP_ROLE: _bgp_role,
    CapabilityCode.GRACEFUL_RESTART: _graceful_restart,
    CapabilityCode.ADD_PATH: _add_path,
}


def decode_capabilities(data: bytes) -> tuple[Capability, ...]:
    """The capabilities in one Capabilities optional parameter (RFC 5492 §4).

    Raises Malformed when a TLV overruns the parameter or a known capability
    has an impossible length.
    """
    caps: list[Capability] = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise Malformed("truncated capability header")
        code, length = data[i], data[i + 1]
        value = data[i + 2 : i + 2 + length]
        if len(value) != length:
            raise Malformed("capability overruns its parameter")
        decoder = _DECODERS.get(code)
        caps.append(decoder(value) if decoder else UnknownCapability(code, value))
        i += 2 + length
    return tuple(caps)


def _value(cap: Capability) -> tuple[int, bytes]:
    match cap:
        case Multiprotocol(afi, safi):
            return CapabilityCode.MULTIPROTOCOL, struct.pack("!HBB", afi, 0, safi)
        case RouteRefreshCapability(code):
            return code, b""
        case EnhancedRouteRefresh():
            return CapabilityCode.ENHANCED_ROUTE_REFRESH, b""
        case ExtendedMessage():
            return CapabilityCode.EXTENDED_MESSAGE, b""
        case FourOctetAs(asn):
            return CapabilityCode.FOUR_OCTET_AS, struct.pack("!I", asn)
        case BgpRole(role):
            return CapabilityCode.BGP_ROLE, bytes((role,))
        case GracefulRestart():
            return CapabilityCode.GRACEFUL_RESTART, _graceful_restart_value(cap)
        case AddPath(families):
            value = b"".join(struct.pack("!HBB", f.afi, f.safi, f.mode) for f in families)
            return CapabilityCode.ADD_PATH, value
        case UnknownCapability(code, value):
            return code, value
    raise ValueError(f"not a capability: {cap!r}")


def _graceful_restart_value(cap: GracefulRestart) -> bytes:
    head = cap.restart_time & _GR_TIME
    head |= _GR_RESTART_STATE if cap.restart_state else 0
    head |= _GR_NOTIFICATION if cap.notification else 0
    families = b"".join(
        struct.pack("!HBB", f.afi, f.safi, _GR_FORWARDING if f.forwarding_preserved else 0)
        for f in cap.families
    )
    return struct.pack("!H", head) + families


def encode_capability(cap: Capability) -> bytes:
    """One capability TLV: code, length, value."""
    code, value = _value(cap)
    if len(value) > 255:
        raise ValueError(f"capability {code} value too long: {len(value)} octets")
    return bytes((code, len(value))) + value
