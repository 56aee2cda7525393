"""Address families: the (AFI, SAFI) pairs this codec speaks (RFC 4760 §3)."""

from __future__ import annotations

from enum import IntEnum


class Afi(IntEnum):
    IPV4 = 1
    IPV6 = 2


class Safi(IntEnum):
    UNICAST = 1


Family = tuple[int, int]

IPV4_UNICAST: Family = (Afi.IPV4, Safi.UNICAST)
IPV6_UNICAST: Family = (Afi.IPV6, Safi.UNICAST)
SUPPORTED_FAMILIES: frozenset[Family] = frozenset({IPV4_UNICAST, IPV6_UNICAST})
