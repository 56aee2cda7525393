"""The sans-IO BGP-4 wire codec: bytes in, typed messages out, and back.

No sockets, no clock. A :class:`Reader` frames a byte stream; :func:`decode`
and :func:`encode` turn one message into a value and back; the packer builds
minimal UPDATE sequences. :class:`BgpError` is the only exception decoding
raises; encoding raises ValueError for values that cannot go on the wire.
"""

from speaker.codec.capabilities import (
    AddPath,
    AddPathFamily,
    AddPathMode,
    BgpRole,
    Capability,
    CapabilityCode,
    EnhancedRouteRefresh,
    ExtendedMessage,
    FourOctetAs,
    GracefulRestart,
    GracefulRestartFamily,
    Multiprotocol,
    Role,
    RouteRefreshCapability,
    UnknownCapability,
)
from speaker.codec.decode import decode
from speaker.codec.encode import KEEPALIVE, encode
from speaker.codec.errors import (
    BgpError,
    CeaseSubcode,
    ErrorCode,
    FsmSubcode,
    HeaderSubcode,
    OpenSubcode,
    RouteRefreshSubcode,
    UpdateSubcode,
    decode_shutdown_communication,
    encode_shutdown_communication,
)
from speaker.codec.families import IPV4_UNICAST, IPV6_UNICAST, Afi, Family, Safi
from speaker.codec.messages import (
    AS_TRANS,
    Action,
    Keepalive,
    Message,
    MessageType,
    MpReach,
    MpUnreach,
    Note,
    Notification,
    Open,
    RefreshSubtype,
    RouteRefresh,
    Update,
)
from speaker.codec.negotiated import Negotiated, negotiate
from speaker.codec.packer import (
    Packed,
    end_of_rib,
    pack_announcements,
    pack_announcements_traced,
    pack_withdrawals,
    pack_withdrawals_traced,
)
from speaker.codec.reader import Reader

__all__ = [
    "AS_TRANS",
    "IPV4_UNICAST",
    "IPV6_UNICAST",
    "KEEPALIVE",
    "Action",
    "AddPath",
    "AddPathFamily",
    "AddPathMode",
    "Afi",
    "BgpError",
    "BgpRole",
    "Capability",
    "CapabilityCode",
    "CeaseSubcode",
    "EnhancedRouteRefresh",
    "ErrorCode",
    "ExtendedMessage",
    "Family",
    "FourOctetAs",
    "FsmSubcode",
    "GracefulRestart",
    "GracefulRestartFamily",
    "HeaderSubcode",
    "Keepalive",
    "Message",
    "MessageType",
    "MpReach",
    "MpUnreach",
    "Multiprotocol",
    "Negotiated",
    "Note",
    "Notification",
    "Open",
    "OpenSubcode",
    "Packed",
    "Reader",
    "RefreshSubtype",
    "Role",
    "RouteRefresh",
    "RouteRefreshCapability",
    "RouteRefreshSubcode",
    "Safi",
    "UnknownCapability",
    "Update",
    "UpdateSubcode",
    "decode",
    "decode_shutdown_communication",
    "encode",
    "encode_shutdown_communication",
    "end_of_rib",
    "negotiate",
    "pack_announcements",
    "pack_announcements_traced",
    "pack_withdrawals",
    "pack_withdrawals_traced",
]
