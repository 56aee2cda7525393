"""Configuration reloads: `Outbound.reconfigure` sends each client only what the new policy
changes for it, and the clients' routers end up with what `outcome_for` says under it."""

from __future__ import annotations

from typing import Any

import pytest

from processors.export import ExportPolicy
from schemas.events import Decision
from speaker.codec import Negotiated
from speaker.outbound import Outbound, Report
from tests.decide.build import CLIENTS, COMMUNITIES, RS_AS, client_doc, policy, route
from tests.outbound.build import (
    A2,
    FOUR,
    PREFIX4,
    PREFIX6,
    V6,
    W6,
    A,
    B,
    C,
    D,
    E,
    Feed,
    P,
    Router,
    clients,
    expected,
    make_policy,
    route6,
)

BLACKHOLE = (65535, 666)
OTHER4 = "185.50.1.0/24"
NEW, NEW_ASN = "192.0.2.20", 61000


def docs(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The clients of build.clients(), with some entries' cfg replaced (None: removed)."""
    out = []
    for doc in clients():
        if doc["ip"] in changes:
            cfg = changes[doc["ip"]]
            if cfg is None:
                continue
            doc = client_doc(doc["ip"], doc["asn"], **cfg)
        out.append(doc)
    return out


class Setup:
    def __init__(self, initial: ExportPolicy, *sessions: tuple[str, Negotiated]) -> None:
        self.outbound = Outbound(initial)
        self.feed = Feed(initial)
        self.routers: dict[str, Router] = {}
        for address, negotiated in sessions:
            self.up(address, negotiated)

    def up(self, address: str, negotiated: Negotiated = FOUR) -> Report:
        report = self.outbound.establish(address, negotiated)
        self.routers[address] = Router(negotiated)
        self.check()
        return report

    def apply(self, *decisions: Decision) -> Report:
        report = self.outbound.apply(decisions)
        self.check()
        return report

    def reload(self, new: ExportPolicy) -> Report:
        report = self.outbound.reconfigure(new)
        for address in list(self.routers):
            if new.peer(address) is None:
                del self.routers[address]  # the speaker closes its session
        self.check()
        return report

    def check(self) -> None:
        for address, router in self.routers.items():
            router.receive(self.outbound.take(address))
            assert router.rib == expected(self.outbound, address, router.negotiated)
            assert router.rib == self.outbound.sent_to(address)


def everyone(initial: ExportPolicy) -> Setup:
    setup = Setup(initial, *((ip, FOUR) for ip in (A, A2, B, C, D, E, P, V6, W6)))
    feed = setup.feed
    setup.apply(
        feed.decide(PREFIX4, [route(D, 15169)]),
        feed.decide(OTHER4, [route(E, 13335, communities=(BLACKHOLE,))]),
        feed.decide(PREFIX6, [route6(V6, 3333, 15169)]),
    )
    return setup


def causes(report: Report, address: str) -> set[str]:
    return {cause for message in report.output.get(address, ()) for cause in message.caused_by}


def test_the_same_configuration_again_sends_nothing() -> None:
    setup = everyone(make_policy())
    before = setup.outbound.footprint()
    report = setup.reload(make_policy())
    assert report.output == {} and report.overflowed == ()
    assert setup.outbound.footprint() == before


def test_prepend_rs_as_turned_on_for_one_client() -> None:
    setup = everyone(make_policy())
    groups = len(setup.outbound.groups)
    report = setup.reload(policy(docs(**{B: {"prepend_rs_as": True}})))
    assert set(report.output) == {B}  # only B's attributes change
    table = setup.outbound.table.decisions
    assert causes(report, B) == {table[PREFIX4].event_id, table[OTHER4].event_id}
    assert setup.routers[B].rib[PREFIX4].path_asns() == (RS_AS, 8283, 15169)
    # B now shares P's group: the same profile
    assert setup.outbound.clients[B].group is setup.outbound.clients[P].group
    assert len(setup.outbound.groups) == groups


def test_prepend_rs_as_turned_off_and_groups_merge() -> None:
    setup = everyone(make_policy())
    report = setup.reload(policy(docs(**{P: {}})))
    assert set(report.output) == {P}
    assert setup.routers[P].rib[PREFIX4].path_asns() == (8283, 15169)
    assert setup.outbound.clients[P].group is setup.outbound.clients[A2].group


def test_rs_as_changed() -> None:
    setup = everyone(make_policy())
    report = setup.reload(make_policy(rs_as=64900))
    # Only the prepending client's attributes depend on rs_as (the control communities are
    # written with rs_as too, but the routes in force carry none of them).
    assert set(report.output) == {P}
    assert setup.routers[P].rib[PREFIX4].path_asns() == (64900, 8283, 15169)


def test_a_client_that_no_longer_receives_blackholes() -> None:
    """Whether a client may receive a route is the decision's business: the decisions in
    force, taken under the old configuration, still send B the blackhole route (that is
    what `outcome_for` says), and the workers' decisions under the new one withdraw it."""
    setup = everyone(make_policy())
    assert OTHER4 in setup.routers[B].rib
    new = policy(docs(**{B: {"blackhole_filtering": {"announce_to_client": False}}}))
    assert setup.reload(new).output == {}  # another group, the same attributes
    assert setup.outbound.clients[B].group is not setup.outbound.clients[A2].group
    feed = Feed(new, offset=setup.feed.offset)
    report = setup.apply(feed.decide(OTHER4, [route(E, 13335, communities=(BLACKHOLE,))]))
    assert set(report.output) == {B}
    assert OTHER4 not in setup.routers[B].rib and PREFIX4 in setup.routers[B].rib
    # ...and gets it back when the setting goes
    setup.reload(make_policy())
    feed = Feed(make_policy(), offset=feed.offset)
    report = setup.apply(feed.decide(OTHER4, [route(E, 13335, communities=(BLACKHOLE,))]))
    assert set(report.output) == {B} and OTHER4 in setup.routers[B].rib


def test_blackhole_community_of_a_client_added() -> None:
    setup = everyone(make_policy())
    cfg = {"blackhole_filtering": {"client_community": {"std": "64999:666"}}}
    report = setup.reload(policy(docs(**{C: cfg})))
    assert set(report.output) == {C}
    assert (64999, 666) in setup.routers[C].rib[OTHER4].communities
    assert (64999, 666) not in setup.routers[C].rib[PREFIX4].communities


def test_control_community_rules_changed() -> None:
    initial = make_policy()
    setup = Setup(initial, *((ip, FOUR) for ip in (A2, B, C, D)))
    # prepend once towards AS3333 (B): B has a delta, the community is scrubbed for all
    setup.apply(setup.feed.decide(PREFIX4, [route(D, 15169, communities=((65501, 3333),))]))
    assert setup.routers[B].rib[PREFIX4].path_asns() == (8283, 8283, 15169)
    assert setup.routers[C].rib[PREFIX4].communities == ()
    rules = {k: v for k, v in COMMUNITIES.items() if k != "prepend_once_to_peer"}
    report = setup.reload(make_policy(communities=rules))
    # No longer a control community: nobody's path is prepended, everyone sees it.
    assert set(report.output) == {A2, B, C}
    assert setup.routers[B].rib[PREFIX4].path_asns() == (8283, 15169)
    assert setup.routers[C].rib[PREFIX4].communities == ((65501, 3333),)


def test_a_request_naming_a_client_without_a_delta_is_applied() -> None:
    """A decision taken before a reload has no delta for a client that the new
    configuration lets a community name: the client still gets its own attributes."""
    setup = Setup(make_policy(), (A2, FOUR), (B, FOUR))
    best = route(D, 15169, communities=((65501, NEW_ASN), (65504, 3333)))
    setup.apply(setup.feed.decide(PREFIX4, [best]))
    added = policy([*clients(), client_doc(NEW, NEW_ASN)])
    assert setup.reload(added).output == {}
    setup.up(NEW)  # check(): prepended once towards it, as outcome_for says
    assert setup.routers[NEW].rib[PREFIX4].path_asns() == (8283, 8283, 15169)
    assert setup.routers[A2].rib[PREFIX4].path_asns() == (8283, 15169)
    # and when the prefix changes, the exception goes with it
    setup.apply(setup.feed.decide(PREFIX4, [route(D, 15169)]))
    assert setup.outbound.clients[NEW].exceptions == {}


def test_a_removed_client_is_dropped() -> None:
    setup = everyone(make_policy())
    before = setup.outbound.footprint()
    report = setup.reload(policy(docs(**{P: None, C: None})))
    assert report.output == {}
    assert C not in setup.outbound.clients and P not in setup.outbound.clients
    after = setup.outbound.footprint()
    assert after.clients == before.clients - 2
    assert after.groups == before.groups - 1  # P's group had no other member
    assert setup.outbound.take(C) == [] and setup.outbound.sent_to(P) == {}
    setup.outbound.drop(C)  # the transport's drop, after it closed the session: a no-op
    with pytest.raises(KeyError):
        setup.outbound.establish(P, FOUR)


def test_a_client_added_by_a_reload_gets_its_full_table() -> None:
    setup = everyone(make_policy())
    with pytest.raises(KeyError):
        setup.outbound.establish(NEW, FOUR)
    report = setup.reload(policy([*clients(), client_doc(NEW, NEW_ASN, prepend_rs_as=True)]))
    assert report.output == {}
    setup.up(NEW)
    assert set(setup.routers[NEW].rib) == {PREFIX4, OTHER4}
    assert setup.routers[NEW].end_of_rib == sorted(FOUR.families)
    assert setup.outbound.clients[NEW].group is setup.outbound.clients[P].group


def test_address_families_changed() -> None:
    setup = everyone(make_policy())
    rib = dict(setup.routers[W6].rib)
    assert OTHER4 in rib  # rfc8950: its IPv6 session carries IPv4
    report = setup.reload(policy(docs(**{W6: {}})))
    assert set(report.output) == {W6}
    assert set(setup.routers[W6].rib) == {PREFIX6}
    report = setup.reload(make_policy())
    assert set(report.output) == {W6}
    assert setup.routers[W6].rib == rib


def test_exceptions_follow_the_new_policy() -> None:
    setup = everyone(make_policy())
    # a prefix C may not receive (large-community do-not-announce): an exception for C
    setup.apply(setup.feed.decide(PREFIX4, [route(E, large_communities=((RS_AS, 0, 196615),))]))
    assert PREFIX4 not in setup.routers[C].rib
    report = setup.reload(policy(docs(**{C: {"prepend_rs_as": True}})))
    assert set(report.output) == {C}
    assert PREFIX4 not in setup.routers[C].rib
    assert setup.outbound.clients[C].exceptions == {PREFIX4: None}


def test_waiting_sessions_of_removed_clients_are_forgotten() -> None:
    outbound = Outbound(make_policy(), ready=False)
    outbound.establish(C, FOUR)
    outbound.establish(B, FOUR)
    assert outbound.reconfigure(policy(docs(**{C: None}))).output == {}
    report = outbound.mark_ready()
    assert set(report.output) == {B}


def test_decisions_after_a_reload_follow_the_new_policy() -> None:
    setup = everyone(make_policy())
    setup.reload(policy(docs(**{B: {"prepend_rs_as": True}})))
    feed = Feed(setup.outbound.policy, offset=setup.feed.offset)
    setup.apply(feed.decide(PREFIX4, [route(C, 15169)]))
    assert setup.routers[B].rib[PREFIX4].path_asns() == (RS_AS, 196615, 15169)


def test_a_reload_that_overflows_a_queue() -> None:
    outbound = Outbound(make_policy(), queue_limit=400)
    feed = Feed(make_policy())
    outbound.establish(B, FOUR)
    outbound.establish(A2, FOUR)
    outbound.apply([feed.decide(f"10.0.{n}.0/24", [route(D, 15169 + n)]) for n in range(3)])
    outbound.take(B)
    outbound.take(A2)
    report = outbound.reconfigure(policy(docs(**{B: {"prepend_rs_as": True}})))
    assert report.overflowed == () and set(report.output) == {B}
    assert 0 < outbound.pending(B) <= 400
    outbound.take(B)
    outbound.apply([feed.decide(f"10.1.{n}.0/24", [route(D, 15200 + n)]) for n in range(4)])
    outbound.take(B)
    outbound.take(A2)
    report = outbound.reconfigure(make_policy())  # 7 UPDATEs for B: past its bound
    assert report.overflowed == (B,) and B not in outbound.clients
    assert outbound.overflowed(B) and outbound.pending(B) == 0


def test_sessions_keep_what_they_negotiated() -> None:
    # a client whose address families change keeps its wire parameters
    setup = Setup(make_policy(), (A2, FOUR), (E, Negotiated(four_octet_as=False,
                                                            families=FOUR.families)))
    setup.apply(setup.feed.decide(PREFIX4, [route(C, 15169)]))
    setup.reload(policy(docs(**{E: {"prepend_rs_as": True}})))
    assert setup.routers[E].rib[PREFIX4].path_asns() == (RS_AS, 196615, 15169)
    assert dict(CLIENTS)[E] == 20940


class Link:
    """A connection as the speaker's dispatch sees it."""

    def __init__(self) -> None:
        self.flushed = 0
        self.overflowed = 0

    def flush_outbound(self) -> None:
        self.flushed += 1

    def overflow(self) -> None:
        self.overflowed += 1


def test_the_speaker_reloads_the_outbound_core_and_dispatches_its_report() -> None:
    from speaker.service import Speaker
    from tests.decide.build import config

    setup = everyone(make_policy())
    speaker = Speaker(config(clients()), None, "ixrs", 1, outbound=setup.outbound)  # type: ignore[arg-type]
    links = {address: Link() for address in setup.routers}
    speaker.links.update(links)
    speaker.apply_config(config(docs(**{B: {"prepend_rs_as": True}})))
    assert setup.outbound.clients[B].peer.profile.prepend_rs_as
    assert [a for a, link in links.items() if link.flushed] == [B]
    setup.check()
    assert setup.routers[B].rib[PREFIX4].path_asns() == (RS_AS, 8283, 15169)
