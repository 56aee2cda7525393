"""replay/mrt.py: MRT records byte by byte, against RFC 6396's layouts written out here."""

from __future__ import annotations

import struct

import pytest

from replay import mrt
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import SessionState

PATH = (AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),)


def tlvs(data: bytes) -> list[tuple[int, int, bytes]]:
    """(flags, type, value) of a run of path attributes."""
    out, at = [], 0
    while at < len(data):
        flags, code = data[at], data[at + 1]
        if flags & 0x10:
            size, head = struct.unpack_from("!H", data, at + 2)[0], 4
        else:
            size, head = data[at + 2], 3
        out.append((flags, code, data[at + head:at + head + size]))
        at += head + size
    assert at == len(data)
    return out


def test_common_header_and_extended_timestamp() -> None:
    plain = mrt.record(1_700_000_000_250_000, 13, 2, b"body")
    assert plain == struct.pack("!IHHI", 1_700_000_000, 13, 2, 4) + b"body"
    et = mrt.record(1_700_000_000_250_000, 17, 4, b"body")
    # §3: the microseconds follow the header and are counted in its Length
    assert et == struct.pack("!IHHII", 1_700_000_000, 17, 4, 8, 250_000) + b"body"


def test_peer_index_table() -> None:
    body = mrt.peer_index_table("192.0.2.1", "v", [
        mrt.Peer("192.0.2.2", "192.0.2.2", 20002),
        mrt.Peer("10.0.0.5", "2001:db8::5", 4200000000)])
    assert body == (bytes([192, 0, 2, 1]) + b"\x00\x01v" + b"\x00\x02"
                    + b"\x02" + bytes([192, 0, 2, 2]) + bytes([192, 0, 2, 2])
                    + (20002).to_bytes(4, "big")
                    + b"\x03" + bytes([10, 0, 0, 5])
                    + bytes.fromhex("20010db8000000000000000000000005")
                    + (4200000000).to_bytes(4, "big"))


def test_rib_record_of_an_ipv4_prefix() -> None:
    attributes = mrt.rib_attributes(Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                                               as_path=PATH), ipv6_prefix=False)
    entry = mrt.rib_entry(3, 1_700_000_000_999_999, attributes)
    assert entry == struct.pack("!HIH", 3, 1_700_000_000, len(attributes)) + attributes
    body = mrt.rib_body(7, "185.50.0.0/23", [entry, entry])
    assert body == struct.pack("!I", 7) + bytes([23, 185, 50, 0]) + b"\x00\x02" + entry + entry
    assert mrt.rib_subtype("185.50.0.0/23") == mrt.TableDumpV2.RIB_IPV4_UNICAST
    assert mrt.rib_subtype("2a0c:9a40::/32") == mrt.TableDumpV2.RIB_IPV6_UNICAST


def test_rib_attributes_have_four_octet_asns_and_the_next_hop_attribute() -> None:
    data = mrt.rib_attributes(Attributes(origin=Origin.EGP, next_hop="192.0.2.2", as_path=PATH,
                                         local_pref=150, communities=((65000, 1),)), False)
    found = {code: value for _flags, code, value in tlvs(data)}
    assert [code for _f, code, _v in tlvs(data)] == [1, 2, 3, 5, 8]  # ascending
    assert found[2] == b"\x02\x02" + (20002).to_bytes(4, "big") + (3333).to_bytes(4, "big")
    assert found[3] == bytes([192, 0, 2, 2])
    assert found[5] == (150).to_bytes(4, "big"), "a dump keeps LOCAL_PREF"
    assert 14 not in found


def test_ipv6_next_hop_is_the_abbreviated_mp_reach() -> None:
    attributes = Attributes(origin=Origin.IGP, next_hop="2001:db8::2",
                            next_hop_link_local="fe80::2", as_path=PATH,
                            communities=((65000, 1),), large_communities=((1, 2, 3),))
    data = mrt.rib_attributes(attributes, ipv6_prefix=True)
    codes = [code for _f, code, _v in tlvs(data)]
    assert codes == [1, 2, 8, 14, 32], "MP_REACH_NLRI in its place, no NEXT_HOP"
    [(flags, _code, value)] = [t for t in tlvs(data) if t[1] == 14]
    assert flags == 0x80  # optional, non-transitive
    # §4.3.4: Next Hop Length and Next Hop only; no AFI, SAFI, Reserved or NLRI
    assert value == bytes([32]) + bytes.fromhex("20010db8000000000000000000000002") \
        + bytes.fromhex("fe800000000000000000000000000002")
    no_link_local = mrt.rib_attributes(Attributes(next_hop="2001:db8::2", as_path=PATH), True)
    assert [v for _f, c, v in tlvs(no_link_local) if c == 14] == [
        bytes([16]) + bytes.fromhex("20010db8000000000000000000000002")]


def test_ipv4_prefix_with_an_ipv6_next_hop() -> None:  # RFC 8950
    data = mrt.rib_attributes(Attributes(next_hop="2001:db8::2", as_path=PATH), False)
    assert [c for _f, c, _v in tlvs(data)] == [1, 2, 14]


def test_mp_reach_goes_after_an_extended_length_attribute() -> None:
    long_path = (AsPathSegment(SegmentType.AS_SEQUENCE, tuple(range(64600, 64700))),)
    data = mrt.rib_attributes(Attributes(next_hop="2001:db8::2", as_path=long_path,
                                         ext_communities=(bytes(8),)), True)
    parsed = tlvs(data)
    assert [c for _f, c, _v in parsed] == [1, 2, 14, 16]
    assert parsed[1][0] & 0x10 and len(parsed[1][2]) == 2 + 4 * 100


def test_bgp4mp_message_as4_and_local() -> None:
    message = b"\xff" * 16 + b"\x00\x17\x02" + b"\x00\x00\x00\x00"
    subtype, body = mrt.bgp4mp_message(196615, 59900, "192.0.2.4", "192.0.2.1", message,
                                       sent=False, four_octet_as=True)
    assert subtype == mrt.Bgp4mp.MESSAGE_AS4
    assert body == (struct.pack("!IIHH", 196615, 59900, 0, 1) + bytes([192, 0, 2, 4])
                    + bytes([192, 0, 2, 1]) + message)
    subtype, body = mrt.bgp4mp_message(20007, 59900, "2001:db8::7", "2001:db8::1", message,
                                       sent=True, four_octet_as=True)
    assert subtype == mrt.Bgp4mp.MESSAGE_AS4_LOCAL
    assert body[8:12] == b"\x00\x00\x00\x02" and body[-len(message):] == message
    assert len(body) == 8 + 4 + 32 + len(message)


def test_two_octet_session_gets_the_two_octet_subtypes() -> None:
    message = b"\xff" * 16 + b"\x00\x17\x02" + b"\x00\x00\x00\x00"
    subtype, body = mrt.bgp4mp_message(20006, 4200000000, "192.0.2.6", "192.0.2.1", message,
                                       sent=False, four_octet_as=False)
    assert subtype == mrt.Bgp4mp.MESSAGE
    assert body[:4] == struct.pack("!HH", 20006, 23456), "AS_TRANS for what does not fit"
    subtype, _ = mrt.bgp4mp_message(20006, 59900, "192.0.2.6", "192.0.2.1", message,
                                    sent=True, four_octet_as=False)
    assert subtype == mrt.Bgp4mp.MESSAGE_LOCAL


def test_state_change_numbers_fsm_states_from_one() -> None:
    expected = {SessionState.IDLE: 1, SessionState.CONNECT: 2, SessionState.ACTIVE: 3,
                SessionState.OPENSENT: 4, SessionState.OPENCONFIRM: 5,
                SessionState.ESTABLISHED: 6}
    assert set(mrt.FSM_STATE) == set(SessionState)
    for old, number in expected.items():
        subtype, body = mrt.bgp4mp_state_change(20002, 59900, "192.0.2.2", "192.0.2.1", old,
                                                SessionState.ESTABLISHED)
        assert subtype == mrt.Bgp4mp.STATE_CHANGE_AS4
        assert body[-4:] == struct.pack("!HH", number, 6)
        assert body[:8] == struct.pack("!II", 20002, 59900)


def test_the_two_ends_must_share_a_family() -> None:
    with pytest.raises(ValueError, match="address family"):
        mrt.bgp4mp_state_change(20002, 59900, "2001:db8::2", "192.0.2.1",
                                SessionState.IDLE, SessionState.CONNECT)
