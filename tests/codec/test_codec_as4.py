"""4-octet ASNs across 2-octet sessions (RFC 6793 §4.2, §6)."""

from __future__ import annotations

import struct

import pytest

from schemas.attributes import Aggregator, AsPathSegment, Attributes, SegmentType
from speaker.codec import AS_TRANS, Action, Negotiated, Update, decode, encode
from speaker.codec.aspath import merge_as4_path
from tests.codec.wire import AS_PATH_2, AS_PATH_4, NEXT_HOP, NLRI, ORIGIN_IGP, attr, update

TWO = Negotiated(four_octet_as=False)
FOUR = Negotiated()
SEQ, SET = SegmentType.AS_SEQUENCE, SegmentType.AS_SET
CONFED = SegmentType.AS_CONFED_SEQUENCE


def _path2(*asns: int) -> bytes:
    return attr(0x40, 2, bytes((2, len(asns))) + struct.pack(f"!{len(asns)}H", *asns))


def _as4_path(*asns: int) -> bytes:
    return attr(0xC0, 17, bytes((2, len(asns))) + struct.pack(f"!{len(asns)}I", *asns))


def _decoded(attrs: bytes, negotiated: Negotiated = TWO) -> Update:
    result = decode(update(attrs=ORIGIN_IGP + NEXT_HOP + attrs, nlri=NLRI), negotiated)
    assert isinstance(result, Update) and result.attributes is not None
    return result


def _codes(result: Update) -> list[tuple[int, Action]]:
    return [(n.type_code, n.action) for n in result.notes]


def test_as4_path_restores_true_asns() -> None:
    result = _decoded(_path2(65001, AS_TRANS) + _as4_path(65001, 4200000000))
    assert result.attributes.as_path == (AsPathSegment(SEQ, (65001, 4200000000)),)
    assert result.notes == ()


def test_asns_prepended_by_an_old_speaker_are_kept_in_front() -> None:
    result = _decoded(_path2(100, 100, 65001, AS_TRANS) + _as4_path(65001, 4200000000))
    assert result.attributes.as_path == (AsPathSegment(SEQ, (100, 100, 65001, 4200000000)),)


def test_as4_path_longer_than_as_path_is_ignored() -> None:
    result = _decoded(_path2(AS_TRANS) + _as4_path(65001, 4200000000))
    assert result.attributes.as_path == (AsPathSegment(SEQ, (AS_TRANS,)),)
    assert _codes(result) == [(17, Action.ATTRIBUTE_DISCARD)]


def test_malformed_as4_path_is_discarded_and_as_path_kept() -> None:
    bad = attr(0xC0, 17, b"\x02\x02\x00\x00\x00\x01")
    result = _decoded(_path2(65001, AS_TRANS) + bad)
    assert result.attributes.as_path == (AsPathSegment(SEQ, (65001, AS_TRANS)),)
    assert not result.treat_as_withdraw
    assert _codes(result) == [(17, Action.ATTRIBUTE_DISCARD)]


def test_confederation_segments_in_as4_path_are_removed() -> None:
    value = b"\x03\x01" + struct.pack("!I", 64512) + b"\x02\x01" + struct.pack("!I", 4200000000)
    result = _decoded(_path2(AS_TRANS) + attr(0xC0, 17, value))
    assert result.attributes.as_path == (AsPathSegment(SEQ, (4200000000,)),)
    assert _codes(result) == [(17, Action.ATTRIBUTE_DISCARD)]


def test_as4_aggregator_replaces_an_as_trans_aggregator() -> None:
    agg = attr(0xC0, 7, struct.pack("!H4s", AS_TRANS, b"\x01\x02\x03\x04"))
    agg4 = attr(0xC0, 18, struct.pack("!I4s", 4200000000, b"\x01\x02\x03\x04"))
    result = _decoded(AS_PATH_2 + agg + agg4)
    assert result.attributes.aggregator == Aggregator(4200000000, "1.2.3.4")


def test_aggregator_that_is_not_as_trans_voids_as4_attributes() -> None:
    agg = attr(0xC0, 7, struct.pack("!H4s", 65001, b"\x01\x02\x03\x04"))
    agg4 = attr(0xC0, 18, struct.pack("!I4s", 4200000000, b"\x01\x02\x03\x04"))
    result = _decoded(_path2(65001, AS_TRANS) + agg + agg4 + _as4_path(65001, 4200000000))
    assert result.attributes.aggregator == Aggregator(65001, "1.2.3.4")
    assert result.attributes.as_path == (AsPathSegment(SEQ, (65001, AS_TRANS)),)
    assert _codes(result) == [(18, Action.ATTRIBUTE_DISCARD), (17, Action.ATTRIBUTE_DISCARD)]


def test_malformed_as4_aggregator_is_discarded() -> None:
    result = _decoded(AS_PATH_2 + attr(0xC0, 18, bytes(6)))
    assert _codes(result) == [(18, Action.ATTRIBUTE_DISCARD)]


@pytest.mark.parametrize("code", [17, 18])
def test_as4_attributes_from_a_4_octet_speaker_are_discarded(code: int) -> None:
    result = _decoded(AS_PATH_4 + attr(0xC0, code, bytes(8)), FOUR)
    assert _codes(result) == [(code, Action.ATTRIBUTE_DISCARD)]
    assert result.attributes.as_path == (AsPathSegment(SEQ, (65001, 4200000000)),)


def test_encoding_towards_a_2_octet_speaker_uses_as_trans_and_as4_attributes() -> None:
    attrs = Attributes(
        as_path=(AsPathSegment(CONFED, (64512,)), AsPathSegment(SEQ, (65001, 4200000000))),
        next_hop="192.0.2.1",
        aggregator=Aggregator(4200000000, "1.2.3.4"),
    )
    data = encode(Update(attributes=attrs, nlri=("198.51.100.0/24",)), TWO)
    confed = b"\x03\x01" + struct.pack("!H", 64512)
    as_path = confed + b"\x02\x02" + struct.pack("!HH", 65001, AS_TRANS)
    assert attr(0x40, 2, as_path) in data
    assert _as4_path(65001, 4200000000) in data  # no confederation segment in it
    assert attr(0xC0, 7, struct.pack("!H4s", AS_TRANS, b"\x01\x02\x03\x04")) in data
    assert attr(0xC0, 18, struct.pack("!I4s", 4200000000, b"\x01\x02\x03\x04")) in data
    assert decode(data, TWO).attributes == attrs


def test_no_as4_attributes_when_every_asn_fits_two_octets() -> None:
    attrs = Attributes(as_path=(AsPathSegment(SEQ, (65001, 65002)),), next_hop="192.0.2.1",
                       aggregator=Aggregator(65001, "1.2.3.4"))
    data = encode(Update(attributes=attrs, nlri=("198.51.100.0/24",)), TWO)
    assert b"\xc0\x11" not in data and b"\xc0\x12" not in data


def test_merge_counts_a_set_as_one_and_keeps_leading_confederation_segments() -> None:
    as_path = (
        AsPathSegment(CONFED, (64512,)),
        AsPathSegment(SEQ, (100, AS_TRANS)),
        AsPathSegment(SET, (AS_TRANS, 200)),
    )
    as4_path = (AsPathSegment(SEQ, (4200000000,)), AsPathSegment(SET, (4200000001, 200)))
    assert merge_as4_path(as_path, as4_path) == (
        AsPathSegment(CONFED, (64512,)),
        AsPathSegment(SEQ, (100, 4200000000)),
        AsPathSegment(SET, (4200000001, 200)),
    )


def test_as4_aggregator_without_aggregator_is_discarded() -> None:
    agg4 = attr(0xC0, 18, struct.pack("!I4s", 4200000000, b"\x01\x02\x03\x04"))
    result = _decoded(AS_PATH_2 + agg4)
    assert result.attributes.aggregator is None
    assert _codes(result) == [(18, Action.ATTRIBUTE_DISCARD)]
