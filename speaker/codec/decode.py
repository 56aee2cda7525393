"""Bytes to messages: one function per message type (RFC 4271 §4, §6)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

from speaker.codec.attributes import DecodedAttributes, decode_attributes
from speaker.codec.capabilities import BgpRole, Capability, decode_capabilities
from speaker.codec.errors import (
    BgpError,
    ErrorCode,
    HeaderSubcode,
    Malformed,
    OpenSubcode,
    RouteRefreshSubcode,
    UpdateSubcode,
)
from speaker.codec.header import HEADER_SIZE, MARKER, check_header
from speaker.codec.messages import (
    BGP_VERSION,
    Keepalive,
    Message,
    MessageType,
    Notification,
    Open,
    RefreshSubtype,
    RouteRefresh,
    Update,
)
from speaker.codec.negotiated import Negotiated
from speaker.codec.nlri import decode_ipv4

_CAPABILITIES = 2  # the only optional parameter still defined (RFC 5492 §4)
_EXTENDED_PARAMETERS = 255  # RFC 9072 §2


def _open_error(subcode: int, reason: str, data: bytes = b"") -> BgpError:
    return BgpError(ErrorCode.OPEN_MESSAGE, subcode, data, reason)


def _parameters(data: bytes, declared: int) -> tuple[bytes, int]:
    """(the optional parameters, the size of each parameter's length field)."""
    # RFC 9072 §2: a first parameter type of 255 announces the extended format.
    if declared and data[:1] == bytes((_EXTENDED_PARAMETERS,)):
        if len(data) < 3:
            raise _open_error(OpenSubcode.UNSPECIFIC, "truncated extended parameters length")
        (declared,) = struct.unpack_from("!H", data, 1)
        data = data[3:]
        return _exactly(data, declared), 2
    return _exactly(data, declared), 1


def _exactly(data: bytes, declared: int) -> bytes:
    if declared != len(data):
        raise _open_error(
            OpenSubcode.UNSPECIFIC, f"parameters length {declared}, message has {len(data)}"
        )
    return data


def _capabilities(data: bytes, size: int) -> tuple[Capability, ...]:
    caps: list[Capability] = []
    i = 0
    while i < len(data):
        if i + 1 + size > len(data):
            raise _open_error(OpenSubcode.UNSPECIFIC, "truncated optional parameter")
        kind = data[i]
        length = int.from_bytes(data[i + 1 : i + 1 + size], "big")
        start = i + 1 + size
        if start + length > len(data):
            raise _open_error(OpenSubcode.UNSPECIFIC, "optional parameter overruns")
        if kind != _CAPABILITIES:
            raise _open_error(
                OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
                f"optional parameter {kind}",
                data[i : start + length],
            )
        try:
            caps.extend(decode_capabilities(data[start : start + length]))
        except Malformed as exc:
            raise _open_error(OpenSubcode.UNSPECIFIC, str(exc)) from None
        i = start + length
    return tuple(caps)


def _check_roles(caps: tuple[Capability, ...]) -> None:
    # RFC 9234 §4.2: several Role capabilities with different values are a mismatch.
    roles = {cap.role for cap in caps if isinstance(cap, BgpRole)}
    if len(roles) > 1:
        raise _open_error(OpenSubcode.ROLE_MISMATCH, "conflicting BGP Role capabilities")


def decode_open(body: bytes, negotiated: Negotiated) -> Open:
    version, my_as, hold_time, bgp_id, declared = struct.unpack_from("!BHH4sB", body)
    if version != BGP_VERSION:
        # RFC 4271 §6.2: the data is the largest version we support.
        raise _open_error(
            OpenSubcode.UNSUPPORTED_VERSION, f"version {version}", struct.pack("!H", BGP_VERSION)
        )
    if hold_time in (1, 2):
        raise _open_error(OpenSubcode.UNACCEPTABLE_HOLD_TIME, f"hold time {hold_time}")
    if bgp_id == bytes(4):
        # RFC 6286 §2.2: the BGP Identifier is a non-zero 32-bit number.
        raise _open_error(OpenSubcode.BAD_BGP_IDENTIFIER, "BGP Identifier 0", bgp_id)
    params, size = _parameters(body[10:], declared)
    caps = _capabilities(params, size)
    _check_roles(caps)
    return Open(my_as, hold_time, socket.inet_ntoa(bgp_id), caps, version)


def _update_error(subcode: int, reason: str) -> BgpError:
    return BgpError(ErrorCode.UPDATE_MESSAGE, subcode, b"", reason)


# Decoded path attributes by their wire bytes. A table comes as tens of thousands of
# UPDATEs over a few thousand attribute sets, and decoding them was a third of the per-UPDATE
# work; found here, equal sets are also one object, which the event encoder's identity cache
# then writes once. decode_attributes is a pure function of its three arguments; the session's
# Negotiated is kept by identity (hashing it costs more than the lookup) and checked, so that a
# reused id cannot match. Only attributes without MP_REACH/MP_UNREACH_NLRI are kept: those
# carry the UPDATE's IPv6 prefixes, so they never recur. Bounded (about 1 KB an entry), started
# again when full.
_ATTRIBUTES: dict[tuple[bytes, int, bool], tuple[Negotiated, DecodedAttributes]] = {}
_ATTRIBUTES_LIMIT = 16_384


def _attributes(data: bytes, negotiated: Negotiated, body_nlri: bool) -> DecodedAttributes:
    key = (bytes(data), id(negotiated), body_nlri)  # bytes() of bytes is the same object
    hit = _ATTRIBUTES.get(key)
    if hit is not None and hit[0] is negotiated:
        return hit[1]
    found = decode_attributes(data, negotiated, body_nlri)
    if found.mp_reach is None and found.mp_unreach is None:
        if len(_ATTRIBUTES) >= _ATTRIBUTES_LIMIT:
            _ATTRIBUTES.clear()
        _ATTRIBUTES[key] = (negotiated, found)
    return found


def decode_update(body: bytes, negotiated: Negotiated) -> Update:
    end = len(body)
    withdrawn_len = (body[0] << 8) | body[1]
    attrs_start = 4 + withdrawn_len
    if attrs_start > end:
        raise _update_error(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, "withdrawn routes overrun")
    attrs_end = attrs_start + ((body[attrs_start - 2] << 8) | body[attrs_start - 1])
    if attrs_end > end:
        raise _update_error(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, "path attributes overrun")
    try:
        # RFC 7606 §3.i, §5.3: an unparseable Withdrawn Routes or NLRI field resets.
        withdrawn = decode_ipv4(body[2 : attrs_start - 2])
        nlri = decode_ipv4(body[attrs_end:])
    except Malformed as exc:
        raise _update_error(UpdateSubcode.INVALID_NETWORK_FIELD, str(exc)) from None
    if attrs_start == attrs_end and not nlri:
        return Update(withdrawn=withdrawn)
    found = _attributes(body[attrs_start:attrs_end], negotiated, bool(nlri))
    return Update(
        withdrawn=withdrawn,
        attributes=found.attributes,
        nlri=nlri,
        mp_reach=found.mp_reach,
        mp_unreach=found.mp_unreach,
        treat_as_withdraw=found.treat_as_withdraw,
        notes=found.notes,
    )


def decode_notification(body: bytes, negotiated: Negotiated) -> Notification:
    return Notification(body[0], body[1], body[2:])


def decode_keepalive(body: bytes, negotiated: Negotiated) -> Keepalive:
    return Keepalive()


def decode_route_refresh(body: bytes, negotiated: Negotiated) -> RouteRefresh:
    if len(body) != 4:
        subtype = body[2] if len(body) > 2 else RefreshSubtype.NORMAL
        whole = MARKER + struct.pack("!HB", HEADER_SIZE + len(body), MessageType.ROUTE_REFRESH)
        if subtype in (RefreshSubtype.BEGIN, RefreshSubtype.END):
            # RFC 7313 §5: the data is the whole offending message.
            raise BgpError(
                ErrorCode.ROUTE_REFRESH,
                RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
                whole + body,
                "bad ROUTE-REFRESH length",
            )
        raise BgpError(
            ErrorCode.MESSAGE_HEADER,
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            struct.pack("!H", HEADER_SIZE + len(body)),
            "bad ROUTE-REFRESH length",
        )
    afi, subtype, safi = struct.unpack("!HBB", body)
    return RouteRefresh(afi, safi, subtype)


_DECODERS: dict[int, Callable[[bytes, Negotiated], Message]] = {
    MessageType.OPEN: decode_open,
    MessageType.UPDATE: decode_update,
    MessageType.NOTIFICATION: decode_notification,
    MessageType.KEEPALIVE: decode_keepalive,
    MessageType.ROUTE_REFRESH: decode_route_refresh,
}


def decode_body(kind: int, body: bytes, negotiated: Negotiated) -> Message:
    """The message of a type whose header was already checked."""
    return _DECODERS[kind](body, negotiated)


def decode(data: bytes, negotiated: Negotiated) -> Message:
    """Exactly one whole message, header included."""
    if len(data) < HEADER_SIZE:
        raise BgpError(
            ErrorCode.MESSAGE_HEADER,
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            b"",
            f"{len(data)} octets is shorter than a header",
        )
    kind, length = check_header(data[:HEADER_SIZE], negotiated)
    if length != len(data):
        raise BgpError(
            ErrorCode.MESSAGE_HEADER,
            HeaderSubcode.BAD_MESSAGE_LENGTH,
            struct.pack("!H", length),
            f"length field {length}, message has {len(data)} octets",
        )
    return decode_body(kind, data[HEADER_SIZE:], negotiated)
