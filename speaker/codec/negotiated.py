"""What a session agreed on in its two OPENs, as far as the wire format cares."""

from __future__ import annotations

from dataclasses import dataclass

from speaker.codec.capabilities import (
    EnhancedRouteRefresh,
    ExtendedMessage,
    FourOctetAs,
    Multiprotocol,
    RouteRefreshCapability,
)
from speaker.codec.families import IPV4_UNICAST, SUPPORTED_FAMILIES, Family
from speaker.codec.messages import Open

MAX_MESSAGE_SIZE = 4096  # RFC 4271 §4.1
MAX_EXTENDED_MESSAGE_SIZE = 65535  # RFC 8654 §3


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The session context the codec decodes and encodes with.

    ``ibgp`` is not negotiated but follows from the two OPENs (same ASN); the
    attribute rules of RFC 4271 §5.1.5 and RFC 7606 §7.5, §7.9 and §7.10 depend
    on it. The defaults describe an eBGP session of two 4-octet AS speakers
    before anything else is known, which is also how an OPEN is read.
    """

    four_octet_as: bool = True
    extended_message: bool = False
    ibgp: bool = False
    families: frozenset[Family] = SUPPORTED_FAMILIES
    route_refresh: bool = False
    enhanced_route_refresh: bool = False

    @property
    def max_message_size(self) -> int:
        return MAX_EXTENDED_MESSAGE_SIZE if self.extended_message else MAX_MESSAGE_SIZE

    @property
    def asn_size(self) -> int:
        return 4 if self.four_octet_as else 2


def _has(message: Open, kind: type) -> bool:
    return any(isinstance(cap, kind) for cap in message.capabilities)


def _families(message: Open) -> frozenset[Family]:
    # RFC 4760 §8: a speaker that advertises no multiprotocol capability speaks
    # IPv4 unicast only.
    mp = {(c.afi, c.safi) for c in message.capabilities if isinstance(c, Multiprotocol)}
    return frozenset(mp) if mp else frozenset({IPV4_UNICAST})


def negotiate(local: Open, remote: Open) -> Negotiated:
    """The session context from our OPEN and the peer's.

    A capability counts when both sides advertise it (RFC 5492 §3); ADD-PATH
    and graceful restart are parsed but not acted on here.
    """
    return Negotiated(
        four_octet_as=_has(local, FourOctetAs) and _has(remote, FourOctetAs),
        extended_message=_has(local, ExtendedMessage) and _has(remote, ExtendedMessage),
        ibgp=local.asn() == remote.asn(),
        families=_families(local) & _families(remote) & SUPPORTED_FAMILIES,
        route_refresh=_has(local, RouteRefreshCapability) and _has(remote, RouteRefreshCapability),
        enhanced_route_refresh=(
            _has(local, EnhancedRouteRefresh) and _has(remote, EnhancedRouteRefresh)
        ),
    )
