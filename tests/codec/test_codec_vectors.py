"""Byte-exact messages, assembled by hand from the RFC formats."""

from __future__ import annotations

from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from speaker.codec import (
    BgpRole,
    EnhancedRouteRefresh,
    FourOctetAs,
    Keepalive,
    MpReach,
    Multiprotocol,
    Negotiated,
    Notification,
    Open,
    RouteRefresh,
    RouteRefreshCapability,
    UnknownCapability,
    Update,
    decode,
    encode,
    encode_shutdown_communication,
)

N = Negotiated()
MARKER = "ff" * 16


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_keepalive() -> None:
    data = _hex(MARKER + "0013 04")
    assert encode(Keepalive(), N) == data
    assert decode(data, N) == Keepalive()


def test_open_with_capabilities() -> None:
    message = Open(
        my_as=23456,
        hold_time=180,
        bgp_id="192.0.2.1",
        capabilities=(
            Multiprotocol(1, 1),
            Multiprotocol(2, 1),
            RouteRefreshCapability(),
            FourOctetAs(4200000000),
            BgpRole(2),
        ),
    )
    caps = (
        "01 04 0001 00 01"  # multiprotocol IPv4 unicast
        "01 04 0002 00 01"  # multiprotocol IPv6 unicast
        "02 00"  # route refresh
        "41 04 fa56ea00"  # 4-octet AS 4200000000
        "09 01 02"  # BGP role: route server client
    )
    body = "04 5ba0 00b4 c0000201 19 02 17" + caps
    data = _hex(MARKER + "0036 01" + body)  # 19 + 10 + 2 + 23 octets
    assert encode(message, N) == data
    assert decode(data, N) == message
    assert message.asn() == 4200000000


def test_update_with_ipv4_nlri() -> None:
    message = Update(
        withdrawn=("10.1.0.0/16",),
        attributes=Attributes(
            origin=Origin.IGP,
            as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 4200000000)),),
            next_hop="192.0.2.1",
            med=100,
            communities=((65001, 100),),
            large_communities=((4200000000, 1, 2),),
        ),
        nlri=("198.51.100.0/24", "203.0.113.128/25"),
    )
    attrs = (
        "40 01 01 00"  # ORIGIN IGP
        "40 02 0a 02 02 0000fde9 fa56ea00"  # AS_PATH, one 4-octet sequence
        "40 03 04 c0000201"  # NEXT_HOP 192.0.2.1
        "80 04 04 00000064"  # MED 100
        "c0 08 04 fde9 0064"  # COMMUNITIES 65001:100
        "c0 20 0c fa56ea00 00000001 00000002"  # LARGE_COMMUNITY
    )
    body = "0003 10 0a01" + "0035" + attrs + "18 c63364" + "19 cb007180"  # 53 octets of attributes
    data = _hex(MARKER + "0058 02" + body)  # 19 + 2 + 3 + 2 + 53 + 4 + 5
    assert encode(message, N) == data
    assert decode(data, N) == message


def test_update_with_ipv6_mp_reach_and_mp_unreach() -> None:
    message = Update(
        attributes=Attributes(as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001,)),)),
        mp_reach=MpReach(2, 1, "2001:db8::1", "fe80::1", ("2a0c:9a40::/32",)),
    )
    reach = (
        "80 0e 2a 0002 01 20"
        "20010db8000000000000000000000001 fe800000000000000000000000000001"
        "00 20 2a0c9a40"
    )
    attrs = reach + "40 01 01 00" + "40 02 06 02 01 0000fde9"
    data = _hex(MARKER + f"{19 + 4 + len(_hex(attrs)):04x} 02 0000 {len(_hex(attrs)):04x}" + attrs)
    assert encode(message, N) == data
    assert decode(data, N) == message


def test_notification_with_shutdown_communication() -> None:
    message = Notification(6, 2, encode_shutdown_communication("bye"))
    data = _hex(MARKER + "0019 03 06 02 03 627965")
    assert encode(message, N) == data
    assert decode(data, N) == message


def test_enhanced_route_refresh_markers() -> None:
    assert encode(RouteRefresh(2, 1, 1), N) == _hex(MARKER + "0017 05 0002 01 01")
    assert decode(_hex(MARKER + "0017 05 0001 02 01"), N) == RouteRefresh(1, 1, 2)


def test_unknown_optional_transitive_attribute_is_passed_on_with_partial_bit() -> None:
    received = _hex(
        MARKER + "0025 02 0000 000e" + "40 01 01 00" + "40 02 00" + "c0 63 04 deadbeef"
    )
    update = decode(received, N)
    assert isinstance(update, Update)
    assert encode(update, N).endswith(_hex("e0 63 04 deadbeef"))


def test_open_beyond_255_octets_of_parameters_uses_the_extended_format() -> None:
    caps = tuple(UnknownCapability(200 + i, bytes(100)) for i in range(3))
    message = Open(65001, 90, "192.0.2.1", caps)
    data = encode(message, N)
    params_length = 1 + 2 + 3 * 102
    # RFC 9072 §2: 255, 255, then the 2-octet length; one parameter, 2-octet length.
    assert data[28:35] == _hex(f"ff ff {params_length:04x} 02 {3 * 102:04x}")
    assert decode(data, N) == message


def test_one_capability_per_parameter_is_read_too() -> None:
    params = "02 06 01 04 0001 00 01" + "02 02 46 00"
    data = _hex(MARKER + "0029 01 04 fde9 005a c0000201 0c" + params)  # 19 + 10 + 12
    assert decode(data, N) == Open(
        65001, 90, "192.0.2.1", (Multiprotocol(1, 1), EnhancedRouteRefresh())
    )


def test_local_pref_goes_to_internal_peers_only() -> None:
    attrs = Attributes(next_hop="192.0.2.1", local_pref=200)
    message = Update(attributes=attrs, nlri=("10.0.0.0/8",))
    local_pref = _hex("40 05 04 000000c8")
    assert local_pref not in encode(message, N)
    assert local_pref in encode(message, Negotiated(ibgp=True))


def test_as_path_segment_longer_than_255_is_split() -> None:
    asns = tuple(range(1, 301))
    message = Update(
        attributes=Attributes(
            as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, asns),), next_hop="192.0.2.1"
        ),
        nlri=("10.0.0.0/8",),
    )
    decoded = decode(encode(message, N), N)
    assert isinstance(decoded, Update) and decoded.attributes is not None
    assert [len(s.asns) for s in decoded.attributes.as_path] == [255, 45]
    assert decoded.attributes.path_asns() == asns


def test_capabilities_switch_to_the_extended_format_past_255_octets_of_parameters() -> None:
    def open_with(size: int) -> bytes:
        return encode(Open(65001, 90, "192.0.2.1", (UnknownCapability(200, bytes(size - 2)),)), N)

    assert open_with(253)[28] == 255  # 253 + the 2-octet parameter header: still one octet
    assert open_with(253)[29] == 2
    assert open_with(254)[28:30] == b"\xff\xff"
