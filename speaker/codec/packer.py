"""Prefixes that share an attribute set, packed into as few UPDATEs as fit.

Each UPDATE carries one kind of NLRI only (RFC 7606 §5.1): IPv4 in the body,
IPv6 in MP_REACH_NLRI/MP_UNREACH_NLRI. Output depends only on the input set,
not its order, so a replay packs the same bytes.

The ``*_traced`` variants return the same messages, each with the prefixes it
carries, for callers that must say which inputs caused which message.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, replace

from schemas.attributes import Attributes
from speaker.codec.attribute_encoder import attribute_tlv, encode_attributes, mp_reach_head
from speaker.codec.attributes import STANDARD_FLAGS, AttrType
from speaker.codec.encode import encode_update
from speaker.codec.families import IPV4_UNICAST, Afi, Family, Safi
from speaker.codec.header import HEADER_SIZE, frame
from speaker.codec.messages import MessageType, MpUnreach, Update
from speaker.codec.negotiated import Negotiated
from speaker.codec.nlri import encode_prefix

_UPDATE_FIXED = HEADER_SIZE + 4  # the two 2-octet length fields
_MP_ATTRIBUTE_HEADER = 4  # flags, type, 2-octet length: the most it can take
_MP_UNREACH_HEAD = 3  # AFI, SAFI
_LARGEST_PREFIX = 17  # an IPv6 /128 on the wire


def _split(prefixes: Iterable[str]) -> tuple[list[bytes], list[bytes]]:
    """Wire forms of the IPv4 and IPv6 prefixes, deduplicated and sorted."""
    v4: set[bytes] = set()
    v6: set[bytes] = set()
    for prefix in prefixes:
        if ":" in prefix:
            v6.add(encode_prefix(prefix, ipv6=True))
        else:
            v4.add(encode_prefix(prefix, ipv6=False))
    return sorted(v4), sorted(v6)


@dataclass(frozen=True, slots=True)
class Packed:
    """One UPDATE and the prefixes it announces or withdraws, in wire order."""

    message: bytes
    prefixes: tuple[str, ...]


def _split_traced(prefixes: Iterable[str]) -> tuple[dict[bytes, str], dict[bytes, str]]:
    """_split(), keeping the text of each wire form."""
    v4: dict[bytes, str] = {}
    v6: dict[bytes, str] = {}
    for prefix in prefixes:
        if ":" in prefix:
            v6[encode_prefix(prefix, ipv6=True)] = prefix
        else:
            v4[encode_prefix(prefix, ipv6=False)] = prefix
    return v4, v6


def _bin_items(encoded: list[bytes], capacity: int) -> list[list[bytes]]:
    """The prefixes of each NLRI field of at most ``capacity`` octets, as few as fit.

    Each field takes the largest prefixes that fit, then fills what is left
    with smaller ones, so no field ends with room for a prefix still waiting.
    """
    if capacity < _LARGEST_PREFIX:
        raise ValueError(f"attributes leave {capacity} octets for NLRI")
    buckets: dict[int, list[bytes]] = {}
    for item in encoded:
        bucket = buckets.get(len(item))  # not setdefault: it would build a list per item
        if bucket is None:
            buckets[len(item)] = [item]
        else:
            bucket.append(item)
    sizes = sorted(buckets, reverse=True)
    taken = dict.fromkeys(sizes, 0)
    left = len(encoded)
    out: list[list[bytes]] = []
    while left:
        space = capacity
        parts: list[bytes] = []
        for size in sizes:
            count = min(len(buckets[size]) - taken[size], space // size)
            if count <= 0:
                continue
            parts += buckets[size][taken[size] : taken[size] + count]
            taken[size] += count
            space -= count * size
            left -= count
        out.append(parts)
    return out


def _update(attrs: bytes, nlri: bytes, withdrawn: bytes, negotiated: Negotiated) -> bytes:
    body = b"".join(
        (struct.pack("!H", len(withdrawn)), withdrawn, struct.pack("!H", len(attrs)), attrs, nlri)
    )
    return frame(MessageType.UPDATE, body, negotiated.max_message_size)


def _mp_tlv(code: AttrType, value: bytes) -> bytes:
    return attribute_tlv(STANDARD_FLAGS[code], code, value)


# Each builder returns (message, the wire forms of its prefixes) pairs.
_Built = list[tuple[bytes, list[bytes]]]


# Encoded attribute blocks, by the identity of the attributes and the session parameters
# (both frozen, and kept here so that their ids stay theirs): the outbound core packs the
# same interned attribute values batch after batch and group after group, and encoding one
# costs some 10 µs. Bounded, started again when full.
_BLOCKS: dict[tuple[int, int, bool], tuple[Attributes, Negotiated, bytes]] = {}
_BLOCKS_LIMIT = 65_536


def _block(attrs: Attributes, negotiated: Negotiated, ipv6: bool) -> bytes:
    """The path attributes of an announcement; for IPv6 NLRI without NEXT_HOP, which goes
    in MP_REACH_NLRI."""
    key = (id(attrs), id(negotiated), ipv6)
    hit = _BLOCKS.get(key)
    if hit is not None and hit[0] is attrs and hit[1] is negotiated:
        return hit[2]
    block = encode_attributes(
        replace(attrs, next_hop=None, next_hop_link_local=None) if ipv6 else attrs, negotiated
    )
    if len(_BLOCKS) >= _BLOCKS_LIMIT:
        _BLOCKS.clear()
    _BLOCKS[key] = (attrs, negotiated, block)
    return block


def _announce_ipv4(attrs: Attributes, encoded: list[bytes], negotiated: Negotiated) -> _Built:
    if attrs.next_hop is None or ":" in attrs.next_hop:
        raise ValueError("IPv4 NLRI needs an IPv4 next hop")
    block = _block(attrs, negotiated, ipv6=False)
    capacity = negotiated.max_message_size - _UPDATE_FIXED - len(block)
    return [
        (_update(block, b"".join(items), b"", negotiated), items)
        for items in _bin_items(encoded, capacity)
    ]


def _announce_ipv6(attrs: Attributes, encoded: list[bytes], negotiated: Negotiated) -> _Built:
    if attrs.next_hop is None or ":" not in attrs.next_hop:
        raise ValueError("IPv6 NLRI needs an IPv6 next hop")
    head = mp_reach_head(Afi.IPV6, Safi.UNICAST, attrs.next_hop, attrs.next_hop_link_local)
    block = _block(attrs, negotiated, ipv6=True)
    fixed = _UPDATE_FIXED + len(block) + _MP_ATTRIBUTE_HEADER + len(head)
    capacity = negotiated.max_message_size - fixed
    return [
        # RFC 7606 §5.1: MP_REACH_NLRI first.
        (
            _update(
                _mp_tlv(AttrType.MP_REACH_NLRI, head + b"".join(items)) + block,
                b"",
                b"",
                negotiated,
            ),
            items,
        )
        for items in _bin_items(encoded, capacity)
    ]


def _withdraw_ipv4(encoded: list[bytes], negotiated: Negotiated) -> _Built:
    capacity = negotiated.max_message_size - _UPDATE_FIXED
    return [
        (_update(b"", b"", b"".join(items), negotiated), items)
        for items in _bin_items(encoded, capacity)
    ]


def _withdraw_ipv6(encoded: list[bytes], negotiated: Negotiated) -> _Built:
    head = struct.pack("!HB", Afi.IPV6, Safi.UNICAST)
    fixed = _UPDATE_FIXED + _MP_ATTRIBUTE_HEADER + _MP_UNREACH_HEAD
    capacity = negotiated.max_message_size - fixed
    return [
        (
            _update(
                _mp_tlv(AttrType.MP_UNREACH_NLRI, head + b"".join(items)), b"", b"", negotiated
            ),
            items,
        )
        for items in _bin_items(encoded, capacity)
    ]


def pack_announcements(
    attributes: Attributes, prefixes: Iterable[str], negotiated: Negotiated
) -> list[bytes]:
    """UPDATEs announcing ``prefixes`` with ``attributes``.

    ``attributes.next_hop`` must be of the prefixes' family: IPv4 prefixes go
    in the UPDATE body with NEXT_HOP, IPv6 ones in MP_REACH_NLRI.
    """
    v4, v6 = _split(prefixes)
    out: list[bytes] = []
    if v4:
        out += [message for message, _ in _announce_ipv4(attributes, v4, negotiated)]
    if v6:
        out += [message for message, _ in _announce_ipv6(attributes, v6, negotiated)]
    return out


def pack_withdrawals(prefixes: Iterable[str], negotiated: Negotiated) -> list[bytes]:
    """UPDATEs withdrawing ``prefixes``: IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH_NLRI."""
    v4, v6 = _split(prefixes)
    out: list[bytes] = []
    if v4:
        out += [message for message, _ in _withdraw_ipv4(v4, negotiated)]
    if v6:
        out += [message for message, _ in _withdraw_ipv6(v6, negotiated)]
    return out


def _traced(built: _Built, text: dict[bytes, str]) -> list[Packed]:
    return [Packed(message, tuple(map(text.__getitem__, items))) for message, items in built]


def pack_announcements_traced(
    attributes: Attributes, prefixes: Iterable[str], negotiated: Negotiated
) -> list[Packed]:
    """pack_announcements(), each message with the prefixes it carries."""
    v4, v6 = _split_traced(prefixes)
    out: list[Packed] = []
    if v4:
        out += _traced(_announce_ipv4(attributes, sorted(v4), negotiated), v4)
    if v6:
        out += _traced(_announce_ipv6(attributes, sorted(v6), negotiated), v6)
    return out


def pack_withdrawals_traced(prefixes: Iterable[str], negotiated: Negotiated) -> list[Packed]:
    """pack_withdrawals(), each message with the prefixes it carries."""
    v4, v6 = _split_traced(prefixes)
    out: list[Packed] = []
    if v4:
        out += _traced(_withdraw_ipv4(sorted(v4), negotiated), v4)
    if v6:
        out += _traced(_withdraw_ipv6(sorted(v6), negotiated), v6)
    return out


def end_of_rib(family: Family, negotiated: Negotiated) -> bytes:
    """The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for
    IPv4 unicast, an empty MP_UNREACH_NLRI for the others."""
    if family == IPV4_UNICAST:
        return encode_update(Update(), negotiated)
    return encode_update(Update(mp_unreach=MpUnreach(family[0], family[1])), negotiated)
