"""Full tables: session establishment (End-of-RIB) and ROUTE-REFRESH (BoRR/EoRR)."""

from __future__ import annotations

import ipaddress

from schemas.attributes import Attributes
from schemas.events import ClientOutcome
from speaker.codec import IPV4_UNICAST, IPV6_UNICAST, Afi, Negotiated, RefreshSubtype
from speaker.outbound import Kind, Outbound
from tests.decide.build import RS_AS, route
from tests.outbound.build import (
    A2,
    BOTH,
    ERR,
    FOUR,
    PREFIX4,
    PREFIX6,
    V4_ONLY,
    V6,
    W6,
    B,
    C,
    D,
    E,
    Feed,
    Router,
    expected,
    make_policy,
    route6,
)

POLICY = make_policy()


def v4(n: int) -> str:
    return f"10.{n // 256}.{n % 256}.0/24"


def v6(n: int) -> str:
    return str(ipaddress.ip_network(f"2001:db8:{n:x}::/48"))


def loaded(count: int = 300) -> tuple[Outbound, Feed]:
    outbound, feed = Outbound(POLICY), Feed(POLICY)
    # routes of AS20940: E's (IPv4) and those of a router of its on IPv6
    decisions = [feed.decide(v4(n), [route(E, 15169)]) for n in range(count)]
    decisions += [
        feed.decide(v6(n), [route6("2001:db8:1::9", 20940, 15169, next_hop_link_local="fe80::9")])
        for n in range(count)
    ]
    # one prefix C may not receive (large-community do-not-announce): an exception for C
    decisions.append(feed.decide(PREFIX4, [route(E, large_communities=((RS_AS, 0, 196615),))]))
    outbound.apply(decisions)
    return outbound, feed


def test_a_session_gets_its_table_then_end_of_rib_per_family() -> None:
    outbound, _ = loaded()
    report = outbound.establish(B, FOUR)
    router = Router(FOUR)
    router.receive(report.output[B])
    # B's session carries IPv4 only (clients.yml), but both families were negotiated
    assert router.end_of_rib == [IPV4_UNICAST, IPV6_UNICAST]
    assert report.output[B][-1].kind == Kind.END_OF_RIB
    assert router.rib == expected(outbound, B, FOUR) == outbound.sent_to(B)
    assert len(router.rib) == 301 and PREFIX6 not in router.rib
    assert outbound.take(B) == list(report.output[B])


def test_end_of_rib_follows_each_familys_routes() -> None:
    outbound, _ = loaded()
    messages = outbound.establish(W6, FOUR).output[W6]  # RFC 8950 session: both families
    kinds = [m.kind for m in messages]
    first_eor = kinds.index(Kind.END_OF_RIB)
    router = Router(FOUR)
    router.receive(messages[:first_eor])
    assert set(router.rib) == {v4(n) for n in range(300)} | {PREFIX4}
    router.receive(messages[first_eor:])
    assert router.end_of_rib == [IPV4_UNICAST, IPV6_UNICAST]
    assert router.rib == expected(outbound, W6, FOUR)
    assert router.rib[v6(0)].next_hop_link_local == "fe80::9"


def test_only_negotiated_families_and_their_end_of_rib() -> None:
    outbound, _ = loaded()
    router = Router(V4_ONLY)
    router.receive(outbound.establish(W6, V4_ONLY).output[W6])
    assert router.end_of_rib == [IPV4_UNICAST]
    assert all(":" not in p for p in router.rib)
    ipv6_only = Router(FOUR)
    ipv6_only.receive(outbound.establish(V6, FOUR).output[V6])
    assert all(":" in p for p in ipv6_only.rib) and len(ipv6_only.rib) == 300


def test_an_empty_table_is_just_end_of_rib() -> None:
    outbound = Outbound(POLICY)
    messages = outbound.establish(B, FOUR).output[B]
    assert [m.kind for m in messages] == [Kind.END_OF_RIB, Kind.END_OF_RIB]


def test_exceptions_in_the_full_table_and_state_afterwards() -> None:
    outbound, feed = loaded()
    report = outbound.establish(C, FOUR)
    router = Router(FOUR)
    router.receive(report.output[C])
    assert PREFIX4 not in router.rib and len(router.rib) == 300
    assert outbound.clients[C].exceptions == {PREFIX4: None}
    assert router.rib == outbound.sent_to(C)
    # further changes go from that state
    router.receive(outbound.apply([feed.decide(PREFIX4, [route(E)])]).output[C])
    assert router.rib == expected(outbound, C, FOUR) == outbound.sent_to(C)
    assert outbound.clients[C].exceptions == {}


def test_clients_that_come_up_together_share_the_packed_table() -> None:
    outbound, _ = loaded()
    first = outbound.establish(B, FOUR).output[B]
    second = outbound.establish(A2, FOUR).output[A2]
    assert all(a is b for a, b in zip(first[:-2], second[:-2], strict=True))
    third = outbound.establish(C, FOUR).output[C]  # with an exception: only its run differs
    assert sum(m in first for m in third) >= len(first) - 4


def test_a_delta_for_a_client_that_is_not_up_yet_is_used_when_it_comes() -> None:
    outbound, feed = Outbound(POLICY), Feed(POLICY)
    outbound.apply([feed.made(PREFIX4, route(D), (ClientOutcome(C, route(E, 15169)),))])
    router = Router(FOUR)
    router.receive(outbound.establish(C, FOUR).output[C])
    assert router.rib[PREFIX4].path_asns() == (20940, 15169)


def test_route_refresh_sends_the_table_again() -> None:
    outbound, _ = loaded()
    router = Router(FOUR)
    router.receive(outbound.establish(B, FOUR).output[B])
    before = dict(router.rib)
    messages = outbound.refresh(B, IPV4_UNICAST).output[B]
    assert {m.kind for m in messages} == {Kind.UPDATE}  # no BoRR/EoRR, no End-of-RIB
    fresh = Router(FOUR)
    fresh.receive(messages)
    assert fresh.rib == before  # everything again, nothing else
    assert outbound.sent_to(B) == before


def test_enhanced_route_refresh_brackets_the_table() -> None:
    outbound, _ = loaded()
    router = Router(ERR)
    router.receive(outbound.establish(W6, ERR).output[W6])
    messages = outbound.refresh(W6, IPV6_UNICAST).output[W6]
    assert messages[0].kind == Kind.BORR and messages[-1].kind == Kind.EORR
    fresh = Router(ERR)
    fresh.receive(messages)
    assert [(r.afi, r.subtype) for r in fresh.refreshes] == [
        (Afi.IPV6, RefreshSubtype.BEGIN),
        (Afi.IPV6, RefreshSubtype.END),
    ]
    assert fresh.rib == {p: a for p, a in router.rib.items() if ":" in p}
    # a family negotiated that the client's session does not carry: just the brackets
    outbound.establish(B, ERR)
    outbound.take(B)
    assert [m.kind for m in outbound.refresh(B, IPV6_UNICAST).output[B]] == [Kind.BORR, Kind.EORR]


def test_refresh_of_a_family_not_negotiated_is_ignored() -> None:
    outbound, _ = loaded()
    outbound.establish(B, V4_ONLY)
    assert outbound.refresh(B, IPV6_UNICAST).output == {}
    assert outbound.refresh(A2, IPV4_UNICAST).output == {}  # no session


def test_sessions_wait_for_the_table_to_be_complete() -> None:
    outbound, feed = Outbound(POLICY, ready=False), Feed(POLICY)
    assert outbound.establish(B, FOUR).output == {}
    outbound.apply([feed.decide(v4(n), [route(D)]) for n in range(10)])
    assert outbound.take(B) == []
    report = outbound.mark_ready()
    router = Router(FOUR)
    router.receive(report.output[B])
    assert len(router.rib) == 10 and router.end_of_rib == [IPV4_UNICAST, IPV6_UNICAST]


def test_drop_forgets_the_client_and_its_group() -> None:
    outbound, _ = loaded()
    outbound.establish(B, FOUR)
    outbound.establish(C, FOUR)
    outbound.drop(C)
    assert C not in outbound.clients and outbound.footprint().exceptions == 0
    outbound.drop(B)
    assert outbound.groups == {} and outbound.footprint().group_entries == 0
    assert outbound.take(B) == [] and outbound.pending(B) == 0


def test_establishing_again_replaces_the_old_state() -> None:
    outbound, _ = loaded()
    outbound.establish(B, FOUR)
    outbound.establish(B, Negotiated(four_octet_as=False, families=BOTH))
    assert len(outbound.groups) == 1 and not next(iter(outbound.groups)).wire.four_octet_as
    assert isinstance(next(iter(outbound.sent_to(B).values())), Attributes)
