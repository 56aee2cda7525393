"""Messages to bytes: one function per message type.

Encoding trusts its input to be a well-formed value and raises ValueError when
it cannot be put on the wire (too long, an address that is not one); it never
raises BgpError, which is about what a peer sent.
"""

from __future__ import annotations

import socket
import struct

from speaker.codec.attribute_encoder import encode_attributes, encode_mp_reach, encode_mp_unreach
from speaker.codec.capabilities import encode_capability
from speaker.codec.header import frame
from speaker.codec.messages import (
    Keepalive,
    Message,
    MessageType,
    Notification,
    Open,
    RouteRefresh,
    Update,
)
from speaker.codec.negotiated import MAX_MESSAGE_SIZE, Negotiated
from speaker.codec.nlri import encode_prefixes

_CAPABILITIES = 2
_EXTENDED_PARAMETERS = 255  # RFC 9072 §2


def _parameters(capabilities: bytes) -> bytes:
    """The Optional Parameters field holding these capability TLVs (RFC 5492 §4)."""
    if not capabilities:
        return b"\x00"
    if len(capabilities) <= 253:
        return bytes((len(capabilities) + 2, _CAPABILITIES, len(capabilities))) + capabilities
    # RFC 9072 §2: past 255 octets, the extended format with 2-octet lengths.
    param = struct.pack("!BH", _CAPABILITIES, len(capabilities)) + capabilities
    return struct.pack("!BBH", 255, _EXTENDED_PARAMETERS, len(param)) + param


def encode_open(message: Open) -> bytes:
    caps = b"".join(encode_capability(cap) for cap in message.capabilities)
    head = struct.pack(
        "!BHH4s",
        message.version,
        message.my_as,
        message.hold_time,
        socket.inet_pton(socket.AF_INET, message.bgp_id),
    )
    return frame(MessageType.OPEN, head + _parameters(caps), MAX_MESSAGE_SIZE)


def encode_update(message: Update, negotiated: Negotiated) -> bytes:
    """An UPDATE as given; :mod:`speaker.codec.packer` splits prefixes to fit."""
    withdrawn = encode_prefixes(message.withdrawn, ipv6=False)
    # RFC 7606 §5.1: the MP attributes come first.
    attrs = b""
    if message.mp_reach is not None:
        attrs += encode_mp_reach(message.mp_reach)
    if message.mp_unreach is not None:
        attrs += encode_mp_unreach(message.mp_unreach)
    if message.attributes is not None:
        attrs += encode_attributes(message.attributes, negotiated)
    nlri = encode_prefixes(message.nlri, ipv6=False)
    body = b"".join(
        (struct.pack("!H", len(withdrawn)), withdrawn, struct.pack("!H", len(attrs)), attrs, nlri)
    )
    return frame(MessageType.UPDATE, body, negotiated.max_message_size)


def encode_notification(message: Notification, negotiated: Negotiated) -> bytes:
    body = bytes((message.code, message.subcode)) + message.data
    return frame(MessageType.NOTIFICATION, body, negotiated.max_message_size)


def encode_route_refresh(message: RouteRefresh, negotiated: Negotiated) -> bytes:
    body = struct.pack("!HBB", message.afi, message.subtype, message.safi)
    return frame(MessageType.ROUTE_REFRESH, body, negotiated.max_message_size)


KEEPALIVE = frame(MessageType.KEEPALIVE, b"", MAX_MESSAGE_SIZE)


def encode(message: Message, negotiated: Negotiated) -> bytes:
    """The wire form of any message, for a session that negotiated ``negotiated``."""
    match message:
        case Update():
            return encode_update(message, negotiated)
        case Keepalive():
            return KEEPALIVE
        case Open():
            return encode_open(message)
        case Notification():
            return encode_notification(message, negotiated)
        case RouteRefresh():
            return encode_route_refresh(message, negotiated)
    raise ValueError(f"not a BGP message: {message!r}")
