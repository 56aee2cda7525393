"""Path attributes to bytes (RFC 4271 §4.3, §5; RFC 6793 §4.2.2; RFC 4760 §3, §4)."""

from __future__ import annotations

import socket
import struct

from schemas.attributes import Aggregator, Attributes
from speaker.codec.aspath import as4_path_segments, encode_as_path, needs_as4_path
from speaker.codec.attributes import (
    EXTENDED_LENGTH,
    OPTIONAL_TRANSITIVE,
    PARTIAL,
    STANDARD_FLAGS,
    AttrType,
)
from speaker.codec.families import Afi
from speaker.codec.messages import AS_TRANS, MpReach, MpUnreach
from speaker.codec.negotiated import Negotiated
from speaker.codec.nlri import encode_prefixes

_Tlvs = list[tuple[int, bytes]]


def attribute_tlv(flags: int, code: int, value: bytes) -> bytes:
    """One attribute: flags, type, length (extended only when needed), value."""
    if len(value) > 0xFFFF:
        raise ValueError(f"attribute {code} value too long: {len(value)} octets")
    if len(value) > 0xFF:
        return struct.pack("!BBH", (flags | EXTENDED_LENGTH) & 0xF0, code, len(value)) + value
    return struct.pack("!BBB", flags & ~EXTENDED_LENGTH & 0xF0, code, len(value)) + value


def _tlv(code: AttrType, value: bytes) -> tuple[int, bytes]:
    return code, attribute_tlv(STANDARD_FLAGS[code], code, value)


def _packed_ipv4(text: str) -> bytes:
    try:
        return socket.inet_pton(socket.AF_INET, text)
    except OSError:
        raise ValueError(f"not an IPv4 address: {text!r}") from None


def _packed_ipv6(text: str) -> bytes:
    try:
        return socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        raise ValueError(f"not an IPv6 address: {text!r}") from None


def _aggregator_value(agg: Aggregator, asn_size: int) -> bytes:
    asn = agg.asn if asn_size == 4 or agg.asn <= 0xFFFF else AS_TRANS
    return asn.to_bytes(asn_size, "big") + _packed_ipv4(agg.address)


def _as_tlvs(attrs: Attributes, negotiated: Negotiated) -> _Tlvs:
    """AS_PATH and AGGREGATOR, plus their AS4_ twins towards a 2-octet speaker."""
    size = negotiated.asn_size
    out = [_tlv(AttrType.AS_PATH, encode_as_path(attrs.as_path, size))]
    agg = attrs.aggregator
    if agg is not None:
        out.append(_tlv(AttrType.AGGREGATOR, _aggregator_value(agg, size)))
    if negotiated.four_octet_as:
        return out
    # RFC 6793 §4.2.2: the real ASNs ride along only where some do not fit.
    if needs_as4_path(attrs.as_path):
        out.append(_tlv(AttrType.AS4_PATH, encode_as_path(as4_path_segments(attrs.as_path), 4)))
    if agg is not None and agg.asn > 0xFFFF:
        value = agg.asn.to_bytes(4, "big") + _packed_ipv4(agg.address)
        out.append(_tlv(AttrType.AS4_AGGREGATOR, value))
    return out


def _community_tlvs(attrs: Attributes) -> _Tlvs:
    out: _Tlvs = []
    if attrs.communities:
        flat = [half for pair in attrs.communities for half in pair]
        out.append(_tlv(AttrType.COMMUNITIES, struct.pack(f"!{len(flat)}H", *flat)))
    if attrs.ext_communities:
        if any(len(c) != 8 for c in attrs.ext_communities):
            raise ValueError("an extended community is 8 octets")
        out.append(_tlv(AttrType.EXTENDED_COMMUNITIES, b"".join(attrs.ext_communities)))
    if attrs.large_communities:
        flat = [word for triple in attrs.large_communities for word in triple]
        out.append(_tlv(AttrType.LARGE_COMMUNITY, struct.pack(f"!{len(flat)}I", *flat)))
    return out


def _scalar_tlvs(attrs: Attributes, negotiated: Negotiated) -> _Tlvs:
    out = [_tlv(AttrType.ORIGIN, bytes((attrs.origin,)))]
    if attrs.next_hop is not None:
        out.append(_tlv(AttrType.NEXT_HOP, _packed_ipv4(attrs.next_hop)))
    if attrs.med is not None:
        out.append(_tlv(AttrType.MULTI_EXIT_DISC, attrs.med.to_bytes(4, "big")))
    # RFC 4271 §5.1.5: LOCAL_PREF is never sent to an external peer.
    if attrs.local_pref is not None and negotiated.ibgp:
        out.append(_tlv(AttrType.LOCAL_PREF, attrs.local_pref.to_bytes(4, "big")))
    if attrs.atomic_aggregate:
        out.append(_tlv(AttrType.ATOMIC_AGGREGATE, b""))
    if attrs.otc is not None:
        out.append(_tlv(AttrType.OTC, attrs.otc.to_bytes(4, "big")))
    return out


def _unknown_tlvs(attrs: Attributes) -> _Tlvs:
    out = []
    for raw in attrs.unknown:
        if raw.type_code in STANDARD_FLAGS:
            raise ValueError(f"attribute {raw.type_code} is not unknown: set its field")
        flags = raw.flags
        # RFC 4271 §5: an unrecognized optional transitive attribute is passed
        # on with its Partial bit set.
        if flags & OPTIONAL_TRANSITIVE == OPTIONAL_TRANSITIVE:
            flags |= PARTIAL
        out.append((raw.type_code, attribute_tlv(flags, raw.type_code, raw.value)))
    return out


def encode_attributes(attrs: Attributes, negotiated: Negotiated) -> bytes:
    """Every path attribute but the MP ones, in ascending type order (RFC 4271 §5)."""
    tlvs = _scalar_tlvs(attrs, negotiated) + _as_tlvs(attrs, negotiated)
    tlvs += _community_tlvs(attrs) + _unknown_tlvs(attrs)
    tlvs.sort(key=lambda t: t[0])
    return b"".join(tlv for _, tlv in tlvs)


def mp_next_hop(afi: int, next_hop: str, link_local: str | None) -> bytes:
    """The Network Address of Next Hop field of MP_REACH_NLRI (RFC 2545 §3)."""
    if afi == Afi.IPV4:
        return _packed_ipv4(next_hop)
    packed = _packed_ipv6(next_hop)
    return packed + _packed_ipv6(link_local) if link_local is not None else packed


def mp_reach_head(afi: int, safi: int, next_hop: str, link_local: str | None) -> bytes:
    """MP_REACH_NLRI up to its NLRI: AFI, SAFI, next hop, Reserved (RFC 4760 §3)."""
    packed = mp_next_hop(afi, next_hop, link_local)
    return struct.pack("!HBB", afi, safi, len(packed)) + packed + b"\x00"


def encode_mp_reach(mp: MpReach) -> bytes:
    head = mp_reach_head(mp.afi, mp.safi, mp.next_hop, mp.next_hop_link_local)
    nlri = encode_prefixes(mp.nlri, mp.afi == Afi.IPV6)
    return _tlv(AttrType.MP_REACH_NLRI, head + nlri)[1]


def encode_mp_unreach(mp: MpUnreach) -> bytes:
    withdrawn = encode_prefixes(mp.withdrawn, mp.afi == Afi.IPV6)
    value = struct.pack("!HB", mp.afi, mp.safi) + withdrawn
    return _tlv(AttrType.MP_UNREACH_NLRI, value)[1]
