"""The decision process, step by step (RFC 4271 §9.1.2)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from processors.decide import Candidate, Step, best_route, decide
from schemas.attributes import Origin
from schemas.events import Route
from tests.decide.build import path, route

A, B, C = "192.0.2.2", "192.0.2.3", "192.0.2.4"  # AS20002, AS3333, AS196615


def winner_and_step(*routes):  # type: ignore[no-untyped-def]
    """best_route over every order of the routes; all orders must agree."""
    results = {best_route(order) for order in itertools.permutations(routes)}
    assert len(results) == 1, results
    return results.pop()


def test_no_candidate() -> None:
    assert best_route([]) == (None, Step.NO_CANDIDATE)


def test_only_candidate() -> None:
    r = route(A)
    assert best_route([r]) == (r, Step.ONLY_CANDIDATE)


def test_highest_local_pref_wins_over_a_shorter_path() -> None:
    high = route(A, 15169, 13335, local_pref=200)
    short = route(B, local_pref=100)
    assert winner_and_step(high, short) == (high, Step.LOCAL_PREF)


def test_local_pref_unset_by_policy_counts_as_100() -> None:
    unset = route(A, 15169)
    shutdown = route(B, local_pref=0)  # GRACEFUL_SHUTDOWN, RFC 8326
    assert winner_and_step(unset, shutdown) == (unset, Step.LOCAL_PREF)
    above = route(C, 15169, 13335, local_pref=101)
    assert winner_and_step(unset, above) == (above, Step.LOCAL_PREF)


def test_shortest_as_path_wins() -> None:
    short = route(A, 15169)
    long = route(B, 15169, 13335)
    assert winner_and_step(short, long) == (short, Step.AS_PATH_LENGTH)


def test_an_as_set_counts_as_one() -> None:
    # 20002 {15169 13335 8283} is 2 long; 3333 15169 13335 is 3 long.
    with_set = route(A, as_path=path(20002, as_set=(15169, 13335, 8283)))
    sequence = route(B, 15169, 13335)
    assert winner_and_step(with_set, sequence) == (with_set, Step.AS_PATH_LENGTH)


@pytest.mark.parametrize(
    ("better", "worse"),
    [(Origin.IGP, Origin.EGP), (Origin.EGP, Origin.INCOMPLETE), (Origin.IGP, Origin.INCOMPLETE)],
)
def test_lowest_origin_wins(better: Origin, worse: Origin) -> None:
    good = route(B, origin=better, router_id="192.0.2.200")
    bad = route(A, origin=worse, router_id="192.0.2.1")
    assert winner_and_step(good, bad) == (good, Step.ORIGIN)


def test_lower_med_wins_within_one_neighbour_as() -> None:
    low = route(A, med=10, router_id="192.0.2.200")
    high = route("192.0.2.12", med=20, router_id="192.0.2.1")  # AS20002 too
    assert winner_and_step(low, high) == (low, Step.MED)


def test_missing_med_is_the_lowest() -> None:
    none = route(A, router_id="192.0.2.200")
    some = route("192.0.2.12", med=1, router_id="192.0.2.1")
    assert winner_and_step(none, some) == (none, Step.MED)


def test_med_is_not_compared_between_neighbour_ases() -> None:
    low = route(A, med=0, router_id="192.0.2.200")
    high = route(B, med=1000, router_id="192.0.2.1")
    assert winner_and_step(low, high) == (high, Step.ROUTER_ID)


def test_med_elimination_is_not_a_sort() -> None:
    # The classic non-transitive set: m1 beats m2 on MED (same AS), b beats m1 on router id,
    # m2 beats b on router id. The elimination removes m2 first, so b wins in every order.
    m1 = route(A, med=10, router_id="192.0.2.30")
    m2 = route("192.0.2.12", med=20, router_id="192.0.2.10")
    b = route(B, med=0, router_id="192.0.2.20")
    assert winner_and_step(m1, m2, b) == (b, Step.ROUTER_ID)
    # Without m1, m2 is no longer eliminated and wins on router id.
    assert winner_and_step(m2, b) == (m2, Step.ROUTER_ID)


def test_lowest_router_id_wins_numerically() -> None:
    low = route(A, router_id="10.0.0.9")
    high = route(B, router_id="10.0.0.10")
    assert winner_and_step(low, high) == (low, Step.ROUTER_ID)


def test_unknown_router_id_sorts_last() -> None:
    known = route(A, router_id="255.255.255.255")
    unknown = route(B, router_id="")
    assert winner_and_step(known, unknown) == (known, Step.ROUTER_ID)


def test_router_id_comes_from_the_session_when_the_route_has_none() -> None:
    low, high = route(A, router_id=""), route(B, router_id="10.0.0.2")
    low = Route(replace(low.session, router_id="10.0.0.1"), low.attributes, "")
    assert winner_and_step(low, high) == (low, Step.ROUTER_ID)


def test_lowest_peer_address_breaks_the_last_tie() -> None:
    nine = route("192.0.2.9", asn=8283, router_id="10.0.0.1")
    ten = route("192.0.2.10", asn=8283, router_id="10.0.0.1")  # 9 < 10, unlike the text
    assert winner_and_step(nine, ten) == (nine, Step.PEER_ADDRESS)


def test_ipv4_peer_address_before_ipv6() -> None:
    v4 = route("192.0.2.9", asn=8283, router_id="10.0.0.1")
    v6 = route("2001:db8::1", asn=8283, router_id="10.0.0.1")
    assert winner_and_step(v4, v6) == (v4, Step.PEER_ADDRESS)


def test_speaker_id_separates_equal_peer_addresses() -> None:
    one = route(A, speaker="speaker-1")
    two = route(A, speaker="speaker-2")
    assert winner_and_step(one, two) == (one, Step.PEER_ADDRESS)


def test_two_candidates_from_one_session_are_refused() -> None:
    with pytest.raises(ValueError, match="one session"):
        decide([Candidate.of(route(A)), Candidate.of(route(A))])


def test_candidates_are_ranked_and_the_leading_two_settle_it() -> None:
    lp = Candidate.of(route(A, local_pref=50))
    long = Candidate.of(route(B, 15169))
    best = Candidate.of(route(C))
    selection = decide([lp, long, best])
    assert selection.ranked == (best, long, lp)
    assert (selection.winner, selection.step) == (best, Step.AS_PATH_LENGTH)
    assert selection.contenders == (best, long)


def test_view_recomputes_the_step() -> None:
    best = Candidate.of(route(A))
    rival = Candidate.of(route(B, origin=Origin.EGP))
    far = Candidate.of(route(C, 15169))
    base = decide([best, rival, far])
    assert base.step == Step.ORIGIN
    assert base.view([far]) == (best, Step.ORIGIN)
    assert base.view([rival]) == (best, Step.AS_PATH_LENGTH)
    assert base.view([rival, far]) == (best, Step.ONLY_CANDIDATE)
    assert base.view([best, rival, far]) == (None, Step.NO_CANDIDATE)


def test_a_view_without_the_winner_runs_again() -> None:
    best = Candidate.of(route(A))
    second = Candidate.of(route(B, 15169))
    assert decide([best, second]).view([best]) == (second, Step.ONLY_CANDIDATE)


def test_every_route_med_compares_is_a_contender() -> None:
    # m2 is removed by MED, but without m1 it would win: the outcome depends on all three.
    m1 = Candidate.of(route(A, med=10, router_id="192.0.2.30"))
    m2 = Candidate.of(route("192.0.2.12", med=20, router_id="192.0.2.10"))
    b = Candidate.of(route(B, med=0, router_id="192.0.2.20"))
    far = Candidate.of(route(C, 15169))
    base = decide([m1, m2, b, far])
    assert (base.winner, base.step) == (b, Step.ROUTER_ID)
    assert set(base.contenders) == {m1, m2, b}
    assert base.view([m1]) == (m2, Step.ROUTER_ID)
    assert base.view([far]) == (b, Step.ROUTER_ID)
