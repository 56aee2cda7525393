"""Decisions to UPDATEs: update groups, only real changes, packing, causes."""

from __future__ import annotations

import math

from schemas.attributes import Attributes
from schemas.events import ClientOutcome
from speaker.codec import Negotiated, pack_announcements
from speaker.codec.attribute_encoder import encode_attributes
from speaker.outbound import Outbound
from speaker.outbound.interning import Interner
from tests.decide.build import RS_AS, route
from tests.outbound.build import (
    A2,
    FOUR,
    PREFIX4,
    TWO,
    A,
    B,
    C,
    D,
    E,
    Feed,
    P,
    Router,
    expected,
    make_policy,
)

POLICY = make_policy()
ORDINARY = (A2, B, C, E)


def start(*sessions: tuple[str, Negotiated]) -> tuple[Outbound, Feed, dict[str, Router]]:
    outbound, feed = Outbound(POLICY), Feed(POLICY)
    routers = {}
    for address, negotiated in sessions:
        outbound.establish(address, negotiated)
        routers[address] = Router(negotiated)
        routers[address].receive(outbound.take(address))
    return outbound, feed, routers


def deliver(outbound: Outbound, routers: dict[str, Router]) -> None:
    for address, router in routers.items():
        router.receive(outbound.take(address))
        assert (
            router.rib
            == expected(outbound, address, router.negotiated)
            == (outbound.sent_to(address))
        )


def v4(n: int) -> str:
    return f"10.{n // 256}.{n % 256}.0/24"


def test_clients_of_a_group_share_the_bytes_objects() -> None:
    outbound, feed, routers = start(*((ip, FOUR) for ip in (*ORDINARY, D)), (P, FOUR))
    report = outbound.apply([feed.decide(PREFIX4, [route(D, 15169)])])
    shared = report.output[A2]
    assert all(report.output[ip] is shared for ip in ORDINARY)
    assert D not in report.output  # its own route is not sent back to it
    assert report.output[P] is not shared  # prepend_rs_as: another profile, another group
    assert report.output[P][0].raw != shared[0].raw
    assert len(outbound.groups) == 2
    deliver(outbound, routers)
    assert routers[P].rib[PREFIX4].path_asns() == (RS_AS, 8283, 15169)


def test_two_octet_sessions_are_a_group_of_their_own() -> None:
    outbound, feed, _ = start((B, FOUR), (E, TWO), (A2, TWO))
    report = outbound.apply([feed.decide(PREFIX4, [route(C, 15169)])])  # C has a 4-octet ASN
    assert report.output[E] is report.output[A2]
    assert report.output[E][0].raw != report.output[B][0].raw
    assert len(outbound.groups) == 2


def test_only_real_changes_are_sent() -> None:
    outbound, feed, routers = start(*((ip, FOUR) for ip in ORDINARY))
    best = route(D, 15169, med=10)
    assert outbound.apply([feed.decide(PREFIX4, [best])]).output
    deliver(outbound, routers)
    # A new decision with the same outcome (another candidate that does not win): nothing.
    report = outbound.apply([feed.decide(PREFIX4, [best, route(A, 15169, 13335, 7018)])])
    assert report.output == {}
    # A change of MED is a change.
    report = outbound.apply([feed.decide(PREFIX4, [route(D, 15169, med=20)])])
    assert set(report.output) == set(ORDINARY)
    deliver(outbound, routers)
    assert routers[B].rib[PREFIX4].med == 20


def test_withdrawals_go_only_to_those_that_were_sent_the_route() -> None:
    outbound, feed, routers = start(*((ip, FOUR) for ip in (*ORDINARY, D)))
    outbound.apply([feed.decide(PREFIX4, [route(D, 15169)])])
    deliver(outbound, routers)
    report = outbound.apply([feed.decide(PREFIX4, [])])
    assert set(report.output) == set(ORDINARY)  # D never had it
    deliver(outbound, routers)
    assert all(PREFIX4 not in r.rib for r in routers.values())
    assert outbound.footprint().group_entries == 0


def test_prefixes_sharing_attributes_take_as_few_updates_as_fit() -> None:
    outbound, feed, routers = start((B, FOUR), (C, FOUR))
    best = route(D, 15169, communities=((65000, 1),))
    decisions = [feed.decide(v4(n), [best]) for n in range(3000)]
    report = outbound.apply(decisions)
    messages = report.output[B]
    attrs = outbound.sent_to(B)[v4(0)]
    assert len(messages) == len(pack_announcements(attrs, [v4(n) for n in range(3000)], FOUR))
    room = 4096 - 23 - len(encode_attributes(attrs, FOUR))
    assert len(messages) == math.ceil(3000 / (room // 4))
    deliver(outbound, routers)
    # every message names the decisions of exactly the prefixes it carries
    ids = {d.prefix: d.event_id for d in decisions}
    for message, update in zip(messages, Router(FOUR).receive(messages), strict=True):
        assert message.caused_by == tuple(ids[p] for p in update.nlri)


def test_withdrawals_and_announcements_of_one_batch() -> None:
    outbound, feed, routers = start((B, FOUR))
    outbound.apply([feed.decide(v4(n), [route(D, 15169)]) for n in range(10)])
    deliver(outbound, routers)
    batch = [feed.decide(v4(n), []) for n in range(5)]
    batch += [feed.decide(v4(n), [route(C, 15169)]) for n in range(5, 10)]
    report = outbound.apply(batch)
    updates = Router(FOUR, rib=dict(routers[B].rib)).receive(report.output[B])
    assert [len(u.withdrawals()) for u in updates] == [5, 0]  # withdrawals first
    assert report.output[B][0].caused_by == tuple(d.event_id for d in batch[:5])
    deliver(outbound, routers)


def test_a_client_with_a_delta_gets_the_next_best_and_its_own_messages() -> None:
    # No path hiding: the best path is not for C (do not announce to AS196615 in large
    # form), so C gets the second best; the others share their messages.
    outbound, feed, routers = start(*((ip, FOUR) for ip in ORDINARY))
    best = route(D, large_communities=((RS_AS, 0, 196615),))
    second = route(E, 15169)
    many = [feed.decide(v4(n), [route(D, 13335)]) for n in range(50)]
    report = outbound.apply([*many, feed.decide(PREFIX4, [best, second])])
    assert report.output[B] is report.output[A2]
    assert report.output[C] is not report.output[B]
    # C shares the messages of the runs its delta does not touch
    assert report.output[C][0] is report.output[B][0]
    deliver(outbound, routers)
    assert routers[C].rib[PREFIX4].path_asns() == (20940, 15169)
    assert routers[B].rib[PREFIX4].path_asns() == (8283,)
    assert outbound.footprint().exceptions == 1
    # The community goes: C falls back to the group's route, and only C hears of it.
    report = outbound.apply([feed.decide(PREFIX4, [route(D), second])])
    assert set(report.output) == {C}
    deliver(outbound, routers)
    assert outbound.footprint().exceptions == 0


def test_exceptions_hold_only_where_a_client_differs() -> None:
    outbound, feed, routers = start(*((ip, FOUR) for ip in (*ORDINARY, D)))
    outbound.apply(
        [feed.decide(v4(n), [route(D, 15169), route(B, 15169, 1299)]) for n in range(200)]
    )
    deliver(outbound, routers)
    footprint = outbound.footprint()
    # D and B each have their own route in the running: D gets B's route (a delta), B gets
    # D's, the group's (its delta names the step only, so no exception).
    assert footprint.group_entries == 200 and footprint.groups == 1
    assert footprint.exceptions == 200
    assert footprint.attribute_sets <= 4


def test_a_delta_that_only_names_a_step_sends_the_group_value() -> None:
    outbound, feed, routers = start((B, FOUR), (D, FOUR))
    outbound.apply([feed.made(PREFIX4, route(D), (ClientOutcome(B, route(D), "other-step"),))])
    deliver(outbound, routers)
    assert outbound.footprint().exceptions == 0


def test_a_client_sent_nothing_by_its_delta() -> None:
    outbound, feed, routers = start((B, FOUR), (C, FOUR))
    outbound.apply([feed.made(PREFIX4, route(D), (ClientOutcome(C, None),))])
    deliver(outbound, routers)
    assert PREFIX4 in routers[B].rib and PREFIX4 not in routers[C].rib
    assert outbound.clients[C].exceptions == {PREFIX4: None}
    outbound.apply([feed.decide(PREFIX4, [])])  # gone for everyone: only B is told
    deliver(outbound, routers)
    assert outbound.footprint().exceptions == 0


def test_the_same_decision_twice_sends_nothing() -> None:
    outbound, feed, _ = start((B, FOUR))
    decision = feed.decide(PREFIX4, [route(D)])
    assert outbound.apply([decision]).output
    assert outbound.apply([decision]).output == {}
    assert outbound.apply([decision, decision]).output == {}


def test_several_decisions_for_one_prefix_in_a_batch_send_the_last() -> None:
    outbound, feed, routers = start((B, FOUR))
    first = feed.decide(PREFIX4, [route(D)])
    last = feed.decide(PREFIX4, [route(C)])
    report = outbound.apply([first, last])
    assert [m.caused_by for m in report.output[B]] == [(last.event_id,)]
    deliver(outbound, routers)
    gone = feed.decide(PREFIX4, [])
    back = feed.decide(PREFIX4, [route(C)])
    assert outbound.apply([gone, back]).output == {}  # back where it was


def test_prepend_rs_as_and_plain_values_are_interned() -> None:
    outbound, feed, _ = start((B, FOUR), (P, FOUR))
    outbound.apply([feed.decide(v4(n), [route(D, 15169)]) for n in range(100)])
    values = {id(v) for v in outbound.sent_to(B).values()}
    assert len(values) == 1
    assert len({id(v) for v in outbound.sent_to(P).values()}) == 1
    assert isinstance(next(iter(outbound.sent_to(P).values())), Attributes)


def test_attribute_values_no_longer_stored_are_swept() -> None:
    outbound, feed, routers = start((B, FOUR), (P, FOUR))
    for med in range(3000):  # a new attribute set each time, one alive at any moment
        outbound.apply([feed.decide(PREFIX4, [route(D, 15169, med=med)])])
        if med % 500 == 0:
            deliver(outbound, routers)
    deliver(outbound, routers)
    assert outbound.footprint().attribute_sets <= 2 * 1024 + 4
    assert routers[B].rib[PREFIX4].med == 2999


def test_interner_keeps_one_object_per_value_and_sweeps_the_dead() -> None:
    pool = Interner()
    first = pool(Attributes(med=1))
    assert pool(Attributes(med=1)) is first
    pool(Attributes(med=2))
    pool.sweep([first, None])
    assert len(pool) == 1 and pool(Attributes(med=1)) is first
