"""What goes out (RFC 7947 §2.2), checked on the bytes: decoded with the codec, and read
attribute by attribute where the decoder would hide the difference (AS_TRANS, LOCAL_PREF)."""

from __future__ import annotations

import struct
from dataclasses import replace

from processors.control import NO_EXPORT
from schemas.attributes import Aggregator, AsPathSegment, Attributes, SegmentType
from schemas.events import Route
from speaker.codec import AS_TRANS, Negotiated
from speaker.outbound import Outbound, Outgoing, on_the_wire
from speaker.outbound.wire import wire_params
from tests.decide.build import RS_AS, route
from tests.outbound.build import (
    A2,
    FOUR,
    PREFIX4,
    PREFIX6,
    TWO,
    V6,
    W6,
    B,
    C,
    D,
    E,
    Feed,
    P,
    Router,
    make_policy,
    route6,
)

POLICY = make_policy()
SEQ = SegmentType.AS_SEQUENCE


def raw_attributes(message: Outgoing) -> dict[int, bytes]:
    """Type code -> value of each path attribute of an UPDATE, as on the wire."""
    body = message.raw[19:]
    withdrawn = struct.unpack_from("!H", body)[0]
    start = 2 + withdrawn + 2
    end = start + struct.unpack_from("!H", body, 2 + withdrawn)[0]
    found, i = {}, start
    while i < end:
        flags, code = body[i], body[i + 1]
        if flags & 0x10:
            length, head = struct.unpack_from("!H", body, i + 2)[0], 4
        else:
            length, head = body[i + 2], 3
        found[code] = body[i + head : i + head + length]
        i += head + length
    return found


def one(
    address: str, negotiated: Negotiated, *routes: Route, prefix: str = PREFIX4
) -> tuple[list[Outgoing], Router]:
    """Establish one client, decide `routes` for the prefix; its messages and its router."""
    outbound, feed = Outbound(POLICY), Feed(POLICY)
    outbound.establish(address, negotiated)
    router = Router(negotiated)
    router.receive(outbound.take(address))
    outbound.apply([feed.decide(prefix, routes)])
    messages = outbound.take(address)
    router.receive(messages)
    return messages, router


def test_next_hop_as_path_and_med_unchanged_local_pref_not_sent() -> None:
    best = route(D, 15169, 13335, med=50, local_pref=200, next_hop="192.0.2.55")
    messages, router = one(B, FOUR, best)
    got = router.rib[PREFIX4]
    assert got.next_hop == "192.0.2.55"
    assert got.as_path == best.attributes.as_path
    assert got.med == 50 and got.local_pref is None
    raw = raw_attributes(messages[0])
    assert 5 not in raw  # LOCAL_PREF
    assert raw[4] == struct.pack("!I", 50)
    assert raw[3] == bytes((192, 0, 2, 55))


def test_the_route_servers_as_only_with_prepend_rs_as() -> None:
    _, router = one(P, FOUR, route(D, 15169))
    assert router.rib[PREFIX4].path_asns() == (RS_AS, 8283, 15169)
    _, router = one(B, FOUR, route(D, 15169))
    assert router.rib[PREFIX4].path_asns() == (8283, 15169)


def test_two_octet_clients_get_as_trans_and_as4_path() -> None:
    best = route(C, 15169, aggregator=Aggregator(196615, "192.0.2.4"))  # C is AS196615
    messages, router = one(B, TWO, best)
    raw = raw_attributes(messages[0])
    assert raw[2] == bytes((SEQ, 2)) + struct.pack("!HH", AS_TRANS, 15169)  # AS_PATH
    assert raw[17] == bytes((SEQ, 2)) + struct.pack("!II", 196615, 15169)  # AS4_PATH
    assert raw[7][:2] == struct.pack("!H", AS_TRANS)  # AGGREGATOR
    assert raw[18][:4] == struct.pack("!I", 196615)  # AS4_AGGREGATOR
    # and the client, reading both, has the true path back (RFC 6793 §4.2.3)
    assert router.rib[PREFIX4].as_path == (AsPathSegment(SEQ, (196615, 15169)),)
    assert router.rib[PREFIX4].aggregator == Aggregator(196615, "192.0.2.4")


def test_no_as4_path_when_every_asn_fits_and_none_to_four_octet_clients() -> None:
    messages, _ = one(B, TWO, route(D, 15169))
    assert 17 not in raw_attributes(messages[0])
    messages, _ = one(B, FOUR, route(C, 15169))
    raw = raw_attributes(messages[0])
    assert 17 not in raw and raw[2] == bytes((SEQ, 2)) + struct.pack("!II", 196615, 15169)


def test_ipv6_next_hop_with_its_link_local() -> None:
    best = route6("2001:db8:1::9", 20940, 15169, next_hop_link_local="fe80::9")
    messages, router = one(V6, FOUR, best, prefix=PREFIX6)
    got = router.rib[PREFIX6]
    assert (got.next_hop, got.next_hop_link_local) == ("2001:db8:1::9", "fe80::9")
    mp_reach = raw_attributes(messages[0])[14]
    assert mp_reach[3] == 32  # next hop length: global + link-local (RFC 2545 §3)
    assert 3 not in raw_attributes(messages[0])  # no NEXT_HOP attribute for IPv6 NLRI
    _, router = one(V6, FOUR, route6("2001:db8:1::9", 20940), prefix=PREFIX6)
    assert router.rib[PREFIX6].next_hop_link_local is None


def test_a_family_the_session_does_not_carry_is_not_sent() -> None:
    messages, router = one(V6, FOUR, route(D, 15169))  # IPv6 session without RFC 8950
    assert messages == [] and router.rib == {}
    messages, router = one(B, FOUR, route6("2001:db8:1::9", 20940), prefix=PREFIX6)
    assert messages == [] and router.rib == {}
    _, router = one(W6, FOUR, route(E, 15169))  # RFC 8950 session: carries IPv4 too
    assert router.rib[PREFIX4].next_hop == E


def test_ipv4_nlri_with_an_ipv6_next_hop_is_not_sent_without_rfc8950_encoding() -> None:
    best = route6(W6, 8283, 15169)  # an IPv4 prefix from an RFC 8950 session
    outbound, feed = Outbound(POLICY), Feed(POLICY)
    outbound.establish(B, FOUR)
    outbound.take(B)
    outbound.apply([feed.decide(PREFIX4, [route(E)])])
    router = Router(FOUR)
    router.receive(outbound.take(B))
    assert PREFIX4 in router.rib
    outbound.apply([feed.decide(PREFIX4, [best])])  # the new best cannot be encoded: withdrawn
    router.receive(outbound.take(B))
    assert router.rib == {} and outbound.sent_to(B) == {}


def test_community_requests_applied_and_control_communities_scrubbed() -> None:
    best = route(
        D,
        15169,
        communities=((65504, 3333), (65000, 7)),  # add NO_EXPORT towards AS3333 (B)
        large_communities=((RS_AS, 101, 196615),),  # prepend once towards AS196615 (C)
    )
    outbound, feed = Outbound(POLICY), Feed(POLICY)
    routers = {}
    for address in (B, C, A2):
        outbound.establish(address, FOUR)
        routers[address] = Router(FOUR)
        routers[address].receive(outbound.take(address))
    outbound.apply([feed.decide(PREFIX4, [best])])
    for address, router in routers.items():
        router.receive(outbound.take(address))
    b, c, a2 = (routers[x].rib[PREFIX4] for x in (B, C, A2))
    assert b.communities == ((65000, 7), NO_EXPORT) and b.path_asns() == (8283, 15169)
    assert c.communities == ((65000, 7),) and c.path_asns() == (8283, 8283, 15169)
    assert a2.communities == ((65000, 7),) and a2.large_communities == ()
    assert replace(c, as_path=a2.as_path) == a2
    assert outbound.footprint().exceptions == 2  # B and C, each on one prefix


def test_on_the_wire_strips_local_pref_and_refuses_what_cannot_go() -> None:
    wire = wire_params(FOUR)
    attrs = Attributes(next_hop="192.0.2.1", local_pref=100)
    assert on_the_wire(attrs, 4, wire) == Attributes(next_hop="192.0.2.1")
    assert on_the_wire(attrs, 6, wire) is None  # IPv6 NLRI with an IPv4 next hop
    assert on_the_wire(Attributes(), 4, wire) is None  # no next hop
    huge = Attributes(next_hop="192.0.2.1", large_communities=tuple((i, i, i) for i in range(340)))
    assert on_the_wire(huge, 4, wire) is None
    big = Attributes(next_hop="192.0.2.1", large_communities=tuple((i, i, i) for i in range(300)))
    assert on_the_wire(big, 4, wire) is big  # still leaves room for a prefix
