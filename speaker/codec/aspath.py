"""AS_PATH and AS4_PATH on the wire, and their RFC 6793 reconciliation.

Attributes always hold true 4-octet ASNs. Towards and from a peer without the
4-octet AS capability, the 2-octet AS_PATH carries AS_TRANS where an ASN does
not fit and AS4_PATH carries the real path (RFC 6793 §4.2).
"""

from __future__ import annotations

import struct

from schemas.attributes import AsPathSegment, SegmentType
from speaker.codec.errors import Malformed
from speaker.codec.messages import AS_TRANS

_CONFED = (SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET)
_SEGMENT_TYPES = {t.value: t for t in SegmentType}
_MAX_SEGMENT = 255  # the Path Segment Length field is one octet
_FORMAT = {2: "!%dH", 4: "!%dI"}


def decode_as_path(data: bytes, asn_size: int) -> tuple[AsPathSegment, ...]:
    """The segments of an AS_PATH or AS4_PATH value.

    Raises Malformed on an unknown segment type, an empty segment, or a
    segment that over- or under-runs the attribute (RFC 7606 §7.2).
    """
    segments: list[AsPathSegment] = []
    fmt = _FORMAT[asn_size]
    i = 0
    end = len(data)
    while i < end:
        if i + 2 > end:
            raise Malformed("AS_PATH underrun: one octet left")
        kind = _SEGMENT_TYPES.get(data[i])
        count = data[i + 1]
        if kind is None:
            raise Malformed(f"unknown AS_PATH segment type {data[i]}")
        if count == 0:
            raise Malformed("empty AS_PATH segment")
        nxt = i + 2 + count * asn_size
        if nxt > end:
            raise Malformed("AS_PATH segment overruns the attribute")
        segments.append(AsPathSegment(kind, struct.unpack(fmt % count, data[i + 2 : nxt])))
        i = nxt
    return tuple(segments)


def _two_octet(asns: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(asn if asn <= 0xFFFF else AS_TRANS for asn in asns)


def encode_as_path(segments: tuple[AsPathSegment, ...], asn_size: int) -> bytes:
    """An AS_PATH value; on 2 octets, ASNs that do not fit become AS_TRANS.

    Segments longer than 255 ASNs are split, as the length field requires.
    """
    fmt = _FORMAT[asn_size]
    out = bytearray()
    for seg in segments:
        asns = seg.asns if asn_size == 4 else _two_octet(seg.asns)
        for start in range(0, len(asns), _MAX_SEGMENT):
            chunk = asns[start : start + _MAX_SEGMENT]
            out += bytes((seg.type, len(chunk))) + struct.pack(fmt % len(chunk), *chunk)
    return bytes(out)


def needs_as4_path(segments: tuple[AsPathSegment, ...]) -> bool:
    """RFC 6793 §4.2.2: AS4_PATH is sent only if some ASN does not fit 2 octets."""
    return any(asn > 0xFFFF for seg in segments for asn in seg.asns)


def as4_path_segments(segments: tuple[AsPathSegment, ...]) -> tuple[AsPathSegment, ...]:
    """The segments that go into AS4_PATH: confederation ones never do (RFC 6793 §3)."""
    return tuple(seg for seg in segments if seg.type not in _CONFED)


def without_confed(segments: tuple[AsPathSegment, ...]) -> tuple[AsPathSegment, ...] | None:
    """AS4_PATH minus confederation segments (RFC 6793 §6), or None if it had none."""
    kept = as4_path_segments(segments)
    return kept if len(kept) != len(segments) else None


def path_count(segments: tuple[AsPathSegment, ...]) -> int:
    """The number of ASNs as RFC 4271 §9.1.2.2 counts them: a set is one,
    confederation segments are none (RFC 5065 §5.3)."""
    n = 0
    for seg in segments:
        if seg.type == SegmentType.AS_SEQUENCE:
            n += len(seg.asns)
        elif seg.type == SegmentType.AS_SET:
            n += 1
    return n


def merge_as4_path(
    as_path: tuple[AsPathSegment, ...], as4_path: tuple[AsPathSegment, ...]
) -> tuple[AsPathSegment, ...] | None:
    """The path rebuilt from AS_PATH and AS4_PATH (RFC 6793 §4.2.3), or None
    when AS_PATH is the shorter and AS4_PATH must be ignored."""
    need = path_count(as_path) - path_count(as4_path)
    if need < 0:
        return None
    lead: list[AsPathSegment] = []
    for seg in as_path:
        # Leading confederation segments, and those next to prepended ones, are kept.
        if seg.type in _CONFED:
            lead.append(seg)
            continue
        if need == 0:
            break
        if seg.type == SegmentType.AS_SET:
            lead.append(seg)
            need -= 1
            continue
        take = min(need, len(seg.asns))
        lead.append(AsPathSegment(seg.type, seg.asns[:take]))
        need -= take
    return _joined(lead, as4_path)


def _joined(
    lead: list[AsPathSegment], tail: tuple[AsPathSegment, ...]
) -> tuple[AsPathSegment, ...]:
    # Sequences cut from AS_PATH and the AS4_PATH they were prepended to are one
    # sequence: keep them one segment, so equal paths compare equal.
    if not lead or not tail:
        return (*lead, *tail)
    last, first = lead[-1], tail[0]
    both_sequences = last.type == first.type == SegmentType.AS_SEQUENCE
    if both_sequences and len(last.asns) + len(first.asns) <= _MAX_SEGMENT:
        merged = AsPathSegment(SegmentType.AS_SEQUENCE, last.asns + first.asns)
        return (*lead[:-1], merged, *tail[1:])
    return (*lead, *tail)
