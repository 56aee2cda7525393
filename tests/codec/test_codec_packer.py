"""The packer: fewest UPDATEs that fit, every prefix exactly once, same bytes every time."""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.attributes import AsPathSegment, Attributes, SegmentType
from speaker.codec import (
    IPV4_UNICAST,
    IPV6_UNICAST,
    Negotiated,
    Reader,
    Update,
    end_of_rib,
    pack_announcements,
    pack_withdrawals,
)
from speaker.codec.attribute_encoder import encode_attributes
from speaker.codec.nlri import encode_prefix
from tests.codec import wire_strategies as ws
from tests.codec.wire_strategies import UNHURRIED

N = Negotiated()
EXT = Negotiated(extended_message=True)
ATTRS4 = Attributes(
    as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 4200000000)),),
    next_hop="192.0.2.1",
    communities=((65001, 1), (65001, 2)),
)
ATTRS6 = Attributes(as_path=ATTRS4.as_path, next_hop="2001:db8::1", next_hop_link_local="fe80::1")


def _updates(messages: list[bytes], negotiated: Negotiated) -> list[Update]:
    assert all(len(m) <= negotiated.max_message_size for m in messages)
    reader = Reader(negotiated)
    reader.feed(b"".join(messages))
    out = list(reader)
    assert all(isinstance(u, Update) and not u.notes for u in out)
    return out


def _announced(updates: list[Update]) -> list[str]:
    return [p for u in updates for _, prefixes in u.announced() for p in prefixes]


def _v6_slash48(count: int) -> list[str]:
    return [str(ipaddress.ip_network(f"2001:db8:{i:x}::/48")) for i in range(count)]


def _v4_slash24(count: int) -> list[str]:
    return [f"{10 + i // 65536}.{i // 256 % 256}.{i % 256}.0/24" for i in range(count)]


@pytest.mark.parametrize("negotiated", [N, EXT], ids=["4096", "65535"])
@pytest.mark.parametrize("count", [1, 1018, 1019, 5000])
def test_same_size_prefixes_take_the_minimal_number_of_updates(negotiated, count) -> None:
    prefixes = _v4_slash24(count)
    messages = pack_announcements(ATTRS4, prefixes, negotiated)
    room = negotiated.max_message_size - 23 - len(encode_attributes(ATTRS4, negotiated))
    assert len(messages) == math.ceil(count / (room // 4))
    updates = _updates(messages, negotiated)
    assert sorted(_announced(updates)) == sorted(prefixes)
    assert all(u.announced()[0][0] == ATTRS4 for u in updates)


def test_ipv6_prefixes_go_in_mp_reach_with_both_next_hops() -> None:
    prefixes = _v6_slash48(1000)
    updates = _updates(pack_announcements(ATTRS6, prefixes, N), N)
    others = encode_attributes(replace(ATTRS6, next_hop=None, next_hop_link_local=None), N)
    mp_reach = 4 + 2 + 1 + 1 + 32 + 1  # header, AFI, SAFI, length, next hops, reserved
    assert len(updates) == math.ceil(1000 / ((4096 - 23 - mp_reach - len(others)) // 7))
    assert sorted(_announced(updates)) == sorted(prefixes)
    assert all(u.nlri == () and u.mp_reach is not None for u in updates)
    assert {u.announced()[0][0] for u in updates} == {ATTRS6}


@settings(UNHURRIED, max_examples=30)
@given(st.lists(ws.prefix_v4, min_size=1, max_size=2500, unique=True))
def test_mixed_sizes_leave_no_message_with_room_for_a_later_prefix(prefixes: list[str]) -> None:
    messages = pack_announcements(ATTRS4, prefixes, N)
    updates = _updates(messages, N)
    assert sorted(_announced(updates)) == sorted(prefixes)
    sizes = [[len(encode_prefix(p, ipv6=False)) for p in u.nlri] for u in updates]
    for i, message in enumerate(messages[:-1]):
        free = N.max_message_size - len(message)
        assert free < min(size for later in sizes[i + 1 :] for size in later)
    total = sum(map(sum, sizes))
    room = N.max_message_size - 23 - len(encode_attributes(ATTRS4, N))
    assert len(messages) <= math.ceil(total / room) + 1


def test_withdrawals_pack_ipv4_and_ipv6_apart() -> None:
    v4 = _v4_slash24(1500)
    v6 = _v6_slash48(700)
    updates = _updates(pack_withdrawals(v4 + v6, N), N)
    assert len(updates) == math.ceil(1500 / (4073 // 4)) + math.ceil(700 / ((4096 - 30) // 7))
    assert sorted(p for u in updates for p in u.withdrawals()) == sorted(v4 + v6)
    for u in updates:
        assert (u.withdrawn == ()) != (u.mp_unreach is None)  # RFC 7606 §5.1


def test_packing_is_deterministic_and_deduplicates() -> None:
    prefixes = [*_v4_slash24(3000), "10.0.0.0/8", "192.0.2.0/25"]
    shuffled = prefixes * 2
    random.Random(3).shuffle(shuffled)
    assert pack_announcements(ATTRS4, shuffled, N) == pack_announcements(ATTRS4, prefixes, N)
    assert pack_withdrawals(set(shuffled), N) == pack_withdrawals(prefixes, N)


def test_wrong_family_next_hop_is_refused() -> None:
    with pytest.raises(ValueError, match="IPv6 next hop"):
        pack_announcements(ATTRS4, ["2001:db8::/32"], N)
    with pytest.raises(ValueError, match="IPv4 next hop"):
        pack_announcements(ATTRS6, ["192.0.2.0/24"], N)


def test_attributes_too_large_for_any_prefix_are_refused() -> None:
    huge = Attributes(next_hop="192.0.2.1", large_communities=tuple((i, i, i) for i in range(340)))
    with pytest.raises(ValueError, match="octets for NLRI"):
        pack_announcements(huge, ["192.0.2.0/24"], N)


def test_end_of_rib_markers() -> None:
    marker = b"\xff" * 16
    assert end_of_rib(IPV4_UNICAST, N) == marker + b"\x00\x17\x02\x00\x00\x00\x00"
    assert end_of_rib(IPV6_UNICAST, N) == (
        marker + b"\x00\x1d\x02\x00\x00\x00\x06" + b"\x80\x0f\x03\x00\x02\x01"
    )
    assert [u.end_of_rib() for u in _updates([end_of_rib(IPV4_UNICAST, N)], N)] == [IPV4_UNICAST]
    assert [u.end_of_rib() for u in _updates([end_of_rib(IPV6_UNICAST, N)], N)] == [IPV6_UNICAST]


def test_small_prefixes_fill_the_gaps_big_ones_leave() -> None:
    # 807 /32s (5 octets each) leave 3 octets per message: a /16 fills them exactly.
    room = N.max_message_size - 23 - len(encode_attributes(ATTRS4, N))
    assert room == 807 * 5 + 3
    hosts = [f"10.0.{i // 256}.{i % 256}/32" for i in range(4 * 807)]
    fillers = [f"172.{16 + i}.0.0/16" for i in range(4)]
    messages = pack_announcements(ATTRS4, hosts + fillers, N)
    assert len(messages) == 4
    assert all(len(m) == N.max_message_size for m in messages)


def test_attribute_blocks_remembered_by_identity_follow_the_session() -> None:
    # Encoded attribute blocks are kept by the identity of the attributes and of the session
    # parameters: the same attributes towards a 2-octet AS session get AS_TRANS/AS4_PATH.
    two = Negotiated(four_octet_as=False)
    for _round in range(2):
        for negotiated in (N, two, N):
            for message in pack_announcements(ATTRS4, ["203.0.113.0/24"], negotiated):
                assert encode_attributes(ATTRS4, negotiated) in message
    four = pack_announcements(ATTRS4, ["203.0.113.0/24"], N)
    assert four != pack_announcements(ATTRS4, ["203.0.113.0/24"], two)
    equal = replace(ATTRS4)  # equal, another object: same bytes
    assert pack_announcements(equal, ["203.0.113.0/24"], N) == four
    v6 = pack_announcements(ATTRS6, ["2001:db8:1::/48"], N)
    assert v6 == pack_announcements(replace(ATTRS6), ["2001:db8:1::/48"], N)
    assert encode_attributes(replace(ATTRS6, next_hop=None, next_hop_link_local=None), N) in v6[0]
