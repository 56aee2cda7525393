"""View decomposition: one default outcome per prefix, deltas only where a client differs."""

from __future__ import annotations

import itertools

from processors.decide import Step
from processors.views import decide_prefix, decide_routes, outcome_for, step_for
from schemas.events import ClientOutcome, EventHeader, Position
from tests.decide.build import CLIENTS, PREFIX, RS_AS, client_doc, policy, route

A, A2, B, C, D = "192.0.2.2", "192.0.2.12", "192.0.2.3", "192.0.2.4", "192.0.2.5"
POLICY = policy()


def many_clients(extra: int) -> list[dict]:
    """The usual sessions plus `extra` ordinary ones (AS30000 and up, 198.51.100.0/24 and up)."""
    ordinary = [
        client_doc(f"198.51.{100 + n // 250}.{n % 250 + 1}", 30000 + n) for n in range(extra)
    ]
    return [client_doc(ip, asn) for ip, asn in CLIENTS] + ordinary


def test_default_outcome_and_deltas() -> None:
    best, second = route(D, 15169), route(C, 15169, 13335)
    decision = decide_routes(PREFIX, [best, second], POLICY)
    assert (decision.best, decision.step, decision.candidates) == (best, "as-path-length", 2)
    # D may not have its own route back: it gets the only other one. C gets the default route,
    # but without its own route in the running the decision is settled by another step.
    assert decision.outcomes == (
        ClientOutcome(C, best, "only-candidate"),
        ClientOutcome(D, second, "only-candidate"),
    )
    assert step_for(decision, POLICY.peer(A)) == "as-path-length"  # type: ignore[arg-type]


def test_loop_clients_get_deltas_ordinary_ones_do_not() -> None:
    best, second = route(D, 3333), route(C, 15169, 13335)
    decision = decide_routes(PREFIX, [best, second], POLICY)
    assert {o.client for o in decision.outcomes} == {B, C, D}
    assert decision.outcomes[0] == ClientOutcome(B, second, "only-candidate")


def test_deltas_do_not_grow_with_ordinary_clients() -> None:
    routes = [
        route(D, 3333, communities=((0, 20940),)),
        route(C, 15169, 13335, large_communities=((RS_AS, 101, 20002),)),
        route(A, 15169, 13335, 8283),
    ]
    small = decide_routes(PREFIX, routes, policy(many_clients(0)))
    large = decide_routes(PREFIX, routes, policy(many_clients(300)))
    assert small == large
    # D (its own route), B (3333 is on D's path), 192.0.2.6 (denied); A, A2 and C lose only
    # routes that could not have won, and keep the default.
    assert [o.client for o in large.outcomes] == [B, D, "192.0.2.6"]


def test_a_client_named_by_an_attribute_community_on_the_best_gets_a_delta() -> None:
    best = route(D, large_communities=((RS_AS, 102, 3333),))
    decision = decide_routes(PREFIX, [best], POLICY)
    assert ClientOutcome(B, best, "only-candidate") in decision.outcomes
    route_b, attrs_b = outcome_for(decision, POLICY.peer(B))  # type: ignore[arg-type]
    assert route_b is best and attrs_b.path_asns() == (8283, 8283, 8283)  # type: ignore[union-attr]


def test_a_client_refusing_blackholes_differs_only_for_blackholes() -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if ip != B]
    rs = policy([*entries, client_doc(B, 3333, blackhole_filtering={"announce_to_client": False})])
    plain = decide_routes(PREFIX, [route(D)], rs)
    assert {o.client for o in plain.outcomes} == {D}
    hole = decide_routes(PREFIX, [route(D, communities=((65535, 666),))], rs)
    assert {o.client for o in hole.outcomes} == {B, D}


def test_no_candidates_is_an_empty_decision() -> None:
    decision = decide_routes(PREFIX, {}, POLICY)
    assert (decision.best, decision.step, decision.outcomes) == (None, Step.NO_CANDIDATE, ())
    assert outcome_for(decision, POLICY.peer(A)) == (None, None)  # type: ignore[arg-type]


def test_input_order_and_keys_do_not_matter() -> None:
    routes = [
        route(A, med=10, router_id="192.0.2.30"),
        route(A2, med=20, router_id="192.0.2.10"),
        route(B, med=0, router_id="192.0.2.20"),
        route(C, 15169),
    ]
    offers = [POLICY.analyze(r) for r in routes]
    decisions = {decide_prefix(PREFIX, order, POLICY) for order in itertools.permutations(offers)}
    assert len(decisions) == 1
    keyed = decide_prefix(PREFIX, {("speaker-1", r.peer_address): r for r in offers}, POLICY)
    assert decisions == {keyed}


def test_the_event_reads_the_same_as_the_decision() -> None:
    best, second = route(D, 15169, communities=((0, 3333),)), route(C, 15169, 13335)
    decision = decide_routes(PREFIX, [best, second], POLICY)
    event = decision.to_event(
        EventHeader("processor-1", 7, 1_764_170_000_000_000, "v1"),
        "routes:0:42",
        Position("routes", 0, 42),
    )
    assert (event.prefix, event.best, event.step) == (PREFIX, best, "as-path-length")
    assert (event.candidates, event.outcomes) == (2, decision.outcomes)
    for peer in POLICY.peers:
        assert outcome_for(event, peer) == outcome_for(decision, peer)
        assert step_for(event, peer) == step_for(decision, peer)


def test_a_client_that_gains_a_route_still_loses_its_own() -> None:
    # B may receive `only_b` (announce_to_peer) but not its own route, which cannot win for
    # ordinary clients. Without its own route, LOCAL_PREF settles it; with it, path length.
    w = route(D)
    own = route(B, 15169, 13335)
    only_b = route("192.0.2.6", local_pref=50, communities=((0, RS_AS), (RS_AS, 3333)))
    for order in itertools.permutations([w, own, only_b]):
        decision = decide_routes(PREFIX, order, POLICY)
        assert decision.step == "as-path-length"
        assert ClientOutcome(B, w, "local-pref") in decision.outcomes


def test_only_sessions_of_the_prefix_family_are_covered() -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS]
    v6 = "2001:db8:1::3"
    rs = policy([*entries, client_doc(v6, 3333), client_doc("2001:db8:1::4", 12654, rfc8950=True)])
    best = route(D, large_communities=((RS_AS, 101, 3333),))  # prepend once to AS3333
    decision = decide_routes(PREFIX, [best], rs)
    assert outcome_for(decision, rs.peer(v6)) == (None, None)  # type: ignore[arg-type]
    assert step_for(decision, rs.peer(v6)) == "no-candidate"  # type: ignore[arg-type]
    assert v6 not in {o.client for o in decision.outcomes}
    assert outcome_for(decision, rs.peer("2001:db8:1::4"))[0] is best  # type: ignore[arg-type]
