"""The path attributes of a route, as one immutable value.

This is the one Python type for "a route's attributes": the BGP codec decodes
into it, events carry it (schema ``ixrs.Attributes``), and the validation and
decision functions read it. It is hashable, so routes that share an attribute
set can be grouped by it cheaply.

Prefixes are not part of it. A prefix is carried as its canonical text form
(``"185.50.0.0/24"``, ``"2a0c:9a40::/32"``, as :mod:`ipaddress` prints it),
which any Avro tool and any analyst can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Origin(IntEnum):
    """ORIGIN (RFC 4271 §5.1.1); lower is preferred by the decision process."""

    IGP = 0
    EGP = 1
    INCOMPLETE = 2


class SegmentType(IntEnum):
    """AS_PATH segment types (RFC 4271 §4.3, RFC 5065)."""

    AS_SET = 1
    AS_SEQUENCE = 2
    AS_CONFED_SEQUENCE = 3
    AS_CONFED_SET = 4


@dataclass(frozen=True, slots=True)
class AsPathSegment:
    type: SegmentType
    asns: tuple[int, ...]  # always 4-octet values, whatever the wire used


@dataclass(frozen=True, slots=True)
class Aggregator:
    asn: int  # 4-octet value (AS4_AGGREGATOR already merged for 2-octet peers)
    address: str  # IPv4 address text


@dataclass(frozen=True, slots=True)
class RawAttribute:
    """An optional attribute this codebase does not interpret, kept verbatim.

    ``flags`` are as received; the encoder sets the Partial bit when it passes
    an optional-transitive one on (RFC 4271 §5).
    """

    flags: int
    type_code: int
    value: bytes


@dataclass(frozen=True, slots=True)
class Attributes:
    origin: Origin = Origin.IGP
    as_path: tuple[AsPathSegment, ...] = ()
    # The next hop for the prefixes this value travels with: the NEXT_HOP
    # attribute for IPv4 NLRI, the MP_REACH_NLRI next hop for MP NLRI.
    next_hop: str | None = None
    next_hop_link_local: str | None = None  # IPv6 link-local, RFC 2545 §3
    med: int | None = None
    local_pref: int | None = None
    atomic_aggregate: bool = False
    aggregator: Aggregator | None = None
    communities: tuple[tuple[int, int], ...] = ()  # RFC 1997, (asn16, value16)
    ext_communities: tuple[bytes, ...] = ()  # RFC 4360, 8 octets each
    large_communities: tuple[tuple[int, int, int], ...] = ()  # RFC 8092
    otc: int | None = None  # Only To Customer, RFC 9234
    unknown: tuple[RawAttribute, ...] = field(default=())

    def path_asns(self) -> tuple[int, ...]:
        """Every ASN on the AS_PATH, left to right, sets flattened."""
        return tuple(asn for seg in self.as_path for asn in seg.asns)

    def path_length(self) -> int:
        """AS_PATH length as the decision process counts it (RFC 4271 §9.1.2.2 a):
        an AS_SET counts as one, confederation segments count as zero."""
        n = 0
        for seg in self.as_path:
            if seg.type == SegmentType.AS_SEQUENCE:
                n += len(seg.asns)
            elif seg.type == SegmentType.AS_SET:
                n += 1
        return n

    def first_asn(self) -> int | None:
        """The left-most ASN of the AS_PATH, if it starts with an AS_SEQUENCE."""
        for seg in self.as_path:
            if seg.type == SegmentType.AS_SEQUENCE and seg.asns:
                return seg.asns[0]
            if seg.type in (SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET):
                continue
            return None
        return None

    def origin_asn(self) -> int | None:
        """The right-most ASN, when the path ends in an AS_SEQUENCE (RFC 6811 §2)."""
        if not self.as_path:
            return None
        last = self.as_path[-1]
        if last.type != SegmentType.AS_SEQUENCE or not last.asns:
            return None
        return last.asns[-1]


# Equal attribute sets arrive as separate objects, one per decoded event. Keeping one object
# per value (per process) saves memory where many routes share them, and lets what is keyed
# by identity (the event encoder's and the saved state's byte caches) do each value once.
# Only a cache: a full table is simply started again, and equality never depends on it.
_INTERNED: dict[Attributes, Attributes] = {}
# The objects kept, by id: asking again for one already kept (the common case) costs an
# identity check instead of hashing the attribute set by value.
_KEPT: dict[int, Attributes] = {}
# Read only, for loops that ask per item: `KEPT.get(id(a)) is a` is interned()'s first test
# without the call (processors.received, once per UPDATE part).
KEPT = _KEPT
_INTERN_LIMIT = 200_000


def interned(attributes: Attributes) -> Attributes:
    """The one object kept for this value (this one, if it is the first)."""
    if _KEPT.get(id(attributes)) is attributes:
        return attributes
    found = _INTERNED.get(attributes)
    if found is None:
        if len(_INTERNED) >= _INTERN_LIMIT:
            _INTERNED.clear()
            _KEPT.clear()
        found = _INTERNED[attributes] = attributes
        _KEPT[id(attributes)] = attributes
    return found
