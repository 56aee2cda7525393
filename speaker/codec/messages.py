"""The BGP-4 messages as plain immutable values (RFC 4271 §4, RFC 2918, RFC 7313).

Nothing here reads or writes bytes: see :mod:`speaker.codec.decode` and
:mod:`speaker.codec.encode`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

from schemas.attributes import Attributes
from speaker.codec.capabilities import Capability, FourOctetAs
from speaker.codec.errors import (
    BgpError,
    CeaseSubcode,
    ErrorCode,
    decode_shutdown_communication,
)
from speaker.codec.families import IPV4_UNICAST, Family

BGP_VERSION = 4
AS_TRANS = 23456  # RFC 6793 §2: stands in for an ASN that does not fit two octets


class MessageType(IntEnum):
    OPEN = 1
    UPDATE = 2
    NOTIFICATION = 3
    KEEPALIVE = 4
    ROUTE_REFRESH = 5  # RFC 2918


class RefreshSubtype(IntEnum):
    """ROUTE-REFRESH Message Subtype (RFC 7313 §3.2)."""

    NORMAL = 0
    BEGIN = 1  # BoRR
    END = 2  # EoRR


@dataclass(frozen=True, slots=True)
class Open:
    my_as: int  # the 2-octet "My Autonomous System" field; AS_TRANS for a 4-octet ASN
    hold_time: int
    bgp_id: str  # dotted IPv4 text
    capabilities: tuple[Capability, ...] = ()
    version: int = BGP_VERSION

    def asn(self) -> int:
        """The speaker's ASN: the 4-octet AS capability wins (RFC 6793 §4.1)."""
        for cap in self.capabilities:
            if isinstance(cap, FourOctetAs):
                return cap.asn
        return self.my_as


@dataclass(frozen=True, slots=True)
class MpReach:
    """MP_REACH_NLRI (RFC 4760 §3)."""

    afi: int
    safi: int
    next_hop: str
    next_hop_link_local: str | None = None  # RFC 2545 §3: the second of 32 octets
    nlri: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MpUnreach:
    """MP_UNREACH_NLRI (RFC 4760 §4)."""

    afi: int
    safi: int
    withdrawn: tuple[str, ...] = ()


class Action(StrEnum):
    """The RFC 7606 §2 approaches short of a session reset."""

    TREAT_AS_WITHDRAW = "treat-as-withdraw"
    ATTRIBUTE_DISCARD = "attribute-discard"


@dataclass(frozen=True, slots=True)
class Note:
    """One attribute problem the decoder handled without resetting the session."""

    type_code: int  # 0 when the attribute list itself is malformed (RFC 7606 §4)
    action: Action
    reason: str


@dataclass(frozen=True, slots=True)
class Update:
    """An UPDATE.

    ``attributes`` is None when the message carries no path attribute besides
    MP_REACH_NLRI/MP_UNREACH_NLRI. Its ``next_hop`` is the NEXT_HOP attribute,
    which applies to ``nlri``; the MP next hop lives in ``mp_reach``
    (:meth:`announced` combines them).

    ``treat_as_withdraw`` (RFC 7606 §2) means every prefix in ``nlri`` and
    ``mp_reach`` is to be withdrawn, not installed; ``notes`` say why, and also
    list attributes that were discarded.
    """

    withdrawn: tuple[str, ...] = ()
    attributes: Attributes | None = None
    nlri: tuple[str, ...] = ()
    mp_reach: MpReach | None = None
    mp_unreach: MpUnreach | None = None
    treat_as_withdraw: bool = False
    notes: tuple[Note, ...] = ()

    def announced(self) -> tuple[tuple[Attributes, tuple[str, ...]], ...]:
        """(attributes with the right next hop, prefixes) for each reachable set."""
        if self.treat_as_withdraw or self.attributes is None:
            return ()
        out: list[tuple[Attributes, tuple[str, ...]]] = []
        if self.nlri:
            out.append((self.attributes, self.nlri))
        mp = self.mp_reach
        if mp is not None and mp.nlri:
            attrs = replace(
                self.attributes, next_hop=mp.next_hop, next_hop_link_local=mp.next_hop_link_local
            )
            out.append((attrs, mp.nlri))
        return tuple(out)

    def withdrawals(self) -> tuple[str, ...]:
        """Every prefix to withdraw, including the NLRI of a treat-as-withdraw."""
        out = list(self.withdrawn)
        if self.mp_unreach is not None:
            out.extend(self.mp_unreach.withdrawn)
        if self.treat_as_withdraw:
            out.extend(self.nlri)
            if self.mp_reach is not None:
                out.extend(self.mp_reach.nlri)
        return tuple(out)

    def end_of_rib(self) -> Family | None:
        """The family this End-of-RIB marker closes (RFC 4724 §2), or None."""
        if self.withdrawn or self.nlri or self.attributes is not None or self.mp_reach:
            return None
        if self.mp_unreach is None:
            return IPV4_UNICAST
        if self.mp_unreach.withdrawn:
            return None
        return (self.mp_unreach.afi, self.mp_unreach.safi)


@dataclass(frozen=True, slots=True)
class Notification:
    code: int
    subcode: int
    data: bytes = b""

    @classmethod
    def from_error(cls, error: BgpError) -> Notification:
        return cls(error.code, error.subcode, error.data)

    def shutdown_communication(self) -> str | None:
        """The operator's message of an Administrative Shutdown or Reset (RFC 9003)."""
        if self.code != ErrorCode.CEASE or self.subcode not in (
            CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
            CeaseSubcode.ADMINISTRATIVE_RESET,
        ):
            return None
        return decode_shutdown_communication(self.data)


@dataclass(frozen=True, slots=True)
class Keepalive:
    pass


@dataclass(frozen=True, slots=True)
class RouteRefresh:
    afi: int
    safi: int
    subtype: int = RefreshSubtype.NORMAL  # unknown subtypes are kept: RFC 7313 §5 ignores them


Message = Open | Update | Notification | Keepalive | RouteRefresh
