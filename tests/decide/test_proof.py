"""The proof: view decomposition gives every client what a per-client decision process gives.

For random client policies and random candidate sets, given in shuffled order, each client's
result from decide_prefix + outcome_for must equal a brute-force run of the decision process
over only the candidates that client may receive, with the same exported attributes and step.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.decide import Candidate, decide
from processors.export import (
    ExportPolicy,
    Peer,
    export_attributes,
    may_receive,
    profile_attributes,
)
from processors.views import decide_prefix, ip_version, outcome_for, step_for
from schemas.events import Epoch, Route, Session
from tests.decide.build import PREFIX, PREFIX6
from tests.decide.strategies import ROUTER_IDS, attributes, candidate_sets, policies

EXAMPLES = settings(max_examples=400, deadline=None)


def brute_force(policy: ExportPolicy, peer: Peer, offers: list, prefix: str) -> tuple:
    version = ip_version(prefix)
    mine = [o for o in offers if may_receive(peer, o, version)]
    selection = decide(mine)
    if selection.winner is None:
        return None, None, selection.step.value
    route = selection.winner.route
    return route, export_attributes(route, peer, version), selection.step.value


@EXAMPLES
@given(data=st.data(), prefix=st.sampled_from([PREFIX, PREFIX6]))
def test_every_client_gets_its_own_best(data: st.DataObject, prefix: str) -> None:
    config = data.draw(policies())
    policy = ExportPolicy.from_config(config)
    sessions = [(c.ip, c.asn) for c in config.clients]
    routes = data.draw(candidate_sets(sessions))
    offers = [policy.analyze(r) for r in routes]
    shuffled = data.draw(st.permutations(offers))

    decision = decide_prefix(prefix, shuffled, policy)

    assert decision.candidates == len(offers)
    assert decision == decide_prefix(prefix, offers, policy)
    for outcome in decision.outcomes:  # deltas only for sessions that carry the prefix
        assert ip_version(prefix) in policy.peer(outcome.client).families  # type: ignore[union-attr]
    for peer in policy.peers:
        route, attrs = outcome_for(decision, peer)
        expected = brute_force(policy, peer, offers, prefix)
        assert route is expected[0], peer.ip
        assert attrs == expected[1], peer.ip
        assert step_for(decision, peer) == expected[2], peer.ip
        # A client without a delta is an ordinary one: its profile alone fixes its attributes.
        if route is not None and all(o.client != peer.ip for o in decision.outcomes):
            version = ip_version(prefix)
            assert attrs == profile_attributes(route, peer.profile, peer.settings, version)


@EXAMPLES
@given(data=st.data())
def test_a_view_is_decide_over_its_candidates(data: st.DataObject) -> None:
    plain = data.draw(st.booleans())
    candidates = []
    for n in range(data.draw(st.integers(1, 8))):
        asn = data.draw(st.sampled_from([20002, 3333, 196615]))
        session = Session("speaker-1", f"192.0.2.{n + 2}", asn, Epoch("incarnation-1", 1))
        attrs = data.draw(attributes(asn, plain))
        router_id = data.draw(st.sampled_from(ROUTER_IDS))
        candidates.append(Candidate.of(Route(session, attrs, router_id)))
    # Some candidates only the client sees (added); of the others, it may lose some.
    added = data.draw(st.lists(st.sampled_from(candidates), unique_by=id, max_size=2))
    everyone = [c for c in candidates if c not in added]
    removed = data.draw(st.lists(st.sampled_from(everyone), unique_by=id)) if everyone else []
    base = decide(data.draw(st.permutations(everyone)))
    assert sorted(map(id, base.ranked)) == sorted(map(id, everyone))
    expected = decide([*(c for c in everyone if c not in removed), *added])

    assert base.view(removed, added) == (expected.winner, expected.step)
    # Removing routes behind the contenders, in any number, changes nothing.
    behind = [c for c in removed if c not in base.contenders]
    rest = decide(c for c in everyone if c not in behind)
    assert (rest.winner, rest.step) == (base.winner, base.step)
    assert base.view(behind) == (base.winner, base.step)
