"""The traced packers of the codec, and the sharing of packed runs between members."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.attributes import AsPathSegment, Attributes, SegmentType
from speaker.codec import (
    Negotiated,
    Reader,
    Update,
    pack_announcements,
    pack_announcements_traced,
    pack_withdrawals,
    pack_withdrawals_traced,
)
from speaker.outbound.packing import SKIP, Packer, Runs
from tests.codec import wire_strategies as ws

N = Negotiated()
ATTRS = Attributes(
    as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 4200000000)),), next_hop="192.0.2.1"
)
OTHER = Attributes(as_path=ATTRS.as_path, next_hop="192.0.2.2")
ATTRS6 = Attributes(as_path=ATTRS.as_path, next_hop="2001:db8::1", next_hop_link_local="fe80::1")


def decoded(raw: bytes) -> Update:
    reader = Reader(N)
    reader.feed(raw)
    (message,) = list(reader)
    assert isinstance(message, Update)
    return message


@settings(max_examples=40, deadline=None)
@given(st.lists(ws.prefix_v4, min_size=1, max_size=1500, unique=True))
def test_traced_packers_give_the_same_bytes_and_name_each_messages_prefixes(prefixes) -> None:
    traced = pack_announcements_traced(ATTRS, prefixes, N)
    assert [p.message for p in traced] == pack_announcements(ATTRS, prefixes, N)
    for packed in traced:
        assert packed.prefixes == decoded(packed.message).nlri
    withdrawn = pack_withdrawals_traced(prefixes, N)
    assert [p.message for p in withdrawn] == pack_withdrawals(prefixes, N)
    for packed in withdrawn:
        assert packed.prefixes == decoded(packed.message).withdrawals()


def test_traced_ipv6_prefixes() -> None:
    prefixes = [str(ipaddress.ip_network(f"2001:db8:{n:x}::/48")) for n in range(800)]
    traced = pack_announcements_traced(ATTRS6, prefixes, N)
    assert len(traced) == len(pack_announcements(ATTRS6, prefixes, N)) > 1
    for packed in traced:
        update = decoded(packed.message)
        assert update.mp_reach is not None and packed.prefixes == update.mp_reach.nlri
    for packed in pack_withdrawals_traced(prefixes, N):
        assert packed.prefixes == decoded(packed.message).withdrawals()


def test_a_member_repacks_only_the_runs_its_overrides_touch() -> None:
    changes = {f"10.0.{n}.0/24": ATTRS for n in range(10)}
    changes.update({f"10.1.{n}.0/24": OTHER for n in range(10)})
    changes["10.2.0.0/24"] = None
    runs = Runs.of(changes)
    packer = Packer(N, lambda prefix: f"id-{prefix}")
    shared = packer.shared(runs)
    assert len(shared) == 3 and decoded(shared[0].raw).withdrawn == ("10.2.0.0/24",)
    # one prefix moves from ATTRS to OTHER, and the withdrawal is not for this member
    mine = packer.member(runs, changes, {"10.0.0.0/24": OTHER, "10.2.0.0/24": SKIP})
    assert len(mine) == 2 and all(m is not s for m in mine for s in shared)
    assert set(decoded(mine[1].raw).nlri) == {f"10.1.{n}.0/24" for n in range(10)} | {"10.0.0.0/24"}
    assert "id-10.0.0.0/24" in mine[1].caused_by
    # a member whose override touches only the withdrawals shares both announcements
    other = packer.member(runs, changes, {"10.2.0.0/24": SKIP})
    assert other == shared[1:] and other[0] is shared[1]
    # members with the same overrides share their own messages too
    again = packer.member(runs, changes, {"10.0.0.0/24": OTHER, "10.2.0.0/24": SKIP})
    assert all(a is b for a, b in zip(again, mine, strict=True))
