"""View decomposition (RFC 7948 §4.2.1.1): one decision per prefix, plus per-client deltas. Pure.

Running the decision process once per client would cost candidates times clients for every prefix
change. Most clients see the same candidates, so this computes one default outcome per prefix
and a delta only for the clients whose candidates differ.

What a decision says (`PrefixDecision`, and the `Decision` event it becomes):

- `best` and `step` are the *default* outcome: the route an ordinary client is sent and the
  decision step that settled it. An ordinary client is one that sent none of the candidates,
  whose ASN is on none of their AS_PATHs, that no community on any of them names, and whose
  blackhole setting (`announce_to_client`) is general.yml's. `best` is None when no candidate
  passes the export policy for such a client.
- `candidates` is the number of candidates: every route for the prefix that the import policy
  accepted (a route it rejects, even under `reject_policy: tag`, is not a candidate).
- `outcomes` are the deltas, one per client whose route or step differs from the default, or
  whose attributes a community on its route changes (prepend, NO_EXPORT or NO_ADVERTISE towards
  that peer). A delta's route may be None: that client is sent nothing.
- A client without a delta is sent `best`, with `export_attributes(best, client)`; clients that
  share a `Profile` receive equal attributes. `outcome_for` is the one function that applies
  these rules; the speaker and replay both use it.
- Only clients whose session carries the prefix's address family are covered (an IPv6 session
  carries IPv4 only with `rfc8950`); the others are sent nothing and have no delta.

The work per prefix is one decision for the default, then a check of each client a candidate
singles out (its own session, its ASN on the path, a community naming it, or a blackhole setting
of its own). That depends on the candidates' AS_PATHs and communities, not on the number of
clients. A client that only loses a candidate that could not have won costs a set lookup
(`Selection.harmless`); the others reuse the default decision's rounds (`winner_without`). The
property tests prove every client's result equal to a run of the decision process over only the
candidates that client may receive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from processors.decide import Candidate, Selection, Step, decide, winner_without
from processors.export import ExportPolicy, Offer, Peer, export_attributes, may_receive
from schemas.attributes import Attributes
from schemas.events import ClientOutcome, Decision, EventHeader, Position, Route


@dataclass(frozen=True, slots=True)
class PrefixDecision:
    """The decision for one prefix, with the fields of the Decision event (see module doc)."""

    prefix: str
    best: Route | None
    step: str  # a Step (a str)
    candidates: int
    outcomes: tuple[ClientOutcome, ...]  # sorted by client address text

    def to_event(self, header: EventHeader, event_id: str, position: Position) -> Decision:
        return Decision(
            header,
            event_id,
            position,
            self.prefix,
            self.best,
            self.step,
            self.candidates,
            self.outcomes,
        )


def ip_version(prefix: str) -> int:
    return 6 if ":" in prefix else 4


def decide_prefix(
    prefix: str, offers: Mapping[Any, Offer] | Iterable[Offer], policy: ExportPolicy
) -> PrefixDecision:
    """The decision for a prefix, from its candidates as `ExportPolicy.analyze` read them.

    `offers` is the prefix's candidate set, e.g. peer key -> Offer; the keys are not used.
    """
    pool = tuple(offers.values() if isinstance(offers, dict | Mapping) else offers)
    version = ip_version(prefix)
    base = decide([o for o in pool if version in o.ordinary_in])
    outcomes = _deltas(pool, base, version, policy)
    return PrefixDecision(prefix, _route(base), base.step, len(pool), outcomes)


def decide_routes(
    prefix: str, routes: Mapping[Any, Route] | Iterable[Route], policy: ExportPolicy
) -> PrefixDecision:
    """decide_prefix() for plain routes, read here (replay, tests)."""
    values = routes.values() if isinstance(routes, Mapping) else routes
    return decide_prefix(prefix, [policy.analyze(r) for r in values], policy)


def _route(selection: Selection) -> Route | None:
    return selection.winner.route if selection.winner else None


def _deltas(
    pool: tuple[Offer, ...], base: Selection, version: int, policy: ExportPolicy
) -> tuple[ClientOutcome, ...]:
    winner = base.winner
    styled = frozenset()
    if isinstance(winner, Offer) and winner.styled:
        styled = {ip for ip in winner.styled if version in policy.by_ip[ip].families}
    removed, added = _differences(pool, base, version, policy)
    found: dict[str, ClientOutcome] = {}
    for peer in removed.keys() | added.keys() if added else removed:
        best, step = _reselect(base, removed.get(peer, ()), added.get(peer, ()))
        if best is not base.winner or step != base.step or peer.ip in styled:
            found[peer.ip] = ClientOutcome(peer.ip, best.route if best else None, step)
    for ip in styled:
        found.setdefault(ip, ClientOutcome(ip, _route(base), base.step))
    return tuple(found[ip] for ip in sorted(found))


Differences = dict[Peer, list[Candidate]]


def _differences(
    pool: tuple[Offer, ...], base: Selection, version: int, policy: ExportPolicy
) -> tuple[Differences, Differences]:
    """Per client, the candidates it may not receive though an ordinary client may (removed),
    and the other way round (added). Only clients some candidate singles out are looked at,
    and a client that loses only one candidate that could not have won is left out."""
    removed: Differences = {}
    added: Differences = {}
    harmless = base.harmless()
    spared: dict[Peer, Candidate] = {}  # clients that lost one harmless candidate so far
    for offer in pool:
        usual = version in offer.ordinary_in
        lone = usual and offer in harmless
        if usual:
            for peer in offer.excluded:
                if version in peer.families:
                    _lose(peer, offer, lone, removed, spared)
        if offer.named or (policy.unusual and version in offer.blackhole_in):
            for peer in _singled_out(offer, version, policy):
                if version not in peer.families or may_receive(peer, offer, version) == usual:
                    continue
                if usual:
                    _lose(peer, offer, lone, removed, spared)
                else:
                    added.setdefault(peer, []).append(offer)
    for peer, offer in spared.items():
        if peer in added:
            removed[peer] = [offer]
    return removed, added


def _lose(
    peer: Peer, offer: Offer, lone: bool, removed: Differences, spared: dict[Peer, Candidate]
) -> None:
    if peer in removed:
        removed[peer].append(offer)
    elif peer in spared:
        removed[peer] = [spared.pop(peer), offer]
    elif lone:
        spared[peer] = offer
    else:
        removed[peer] = [offer]


def _singled_out(offer: Offer, version: int, policy: ExportPolicy) -> tuple[Peer, ...]:
    """The clients other than `excluded` that may see this route otherwise than ordinary ones:
    those its communities name, and for a blackhole those with a blackhole setting of their own."""
    if version not in offer.blackhole_in:
        return offer.named
    others = (p for p in policy.unusual if p not in offer.excluded)
    return tuple(dict.fromkeys((*offer.named, *others)))


def _reselect(
    base: Selection, removed: Sequence[Candidate], added: Sequence[Candidate]
) -> tuple[Candidate | None, Step]:
    if not added:
        return winner_without(base, removed)
    everyone = base.rounds[0] if base.rounds else ()
    mine = decide([*(c for c in everyone if c not in removed), *added])
    return mine.winner, mine.step


def _delta(decision: Decision | PrefixDecision, ip: str) -> ClientOutcome | None:
    return next((o for o in decision.outcomes if o.client == ip), None)


def outcome_for(
    decision: Decision | PrefixDecision, peer: Peer
) -> tuple[Route | None, Attributes | None]:
    """What one client is sent for the decision's prefix: the route, or None, and its attributes."""
    version = ip_version(decision.prefix)
    if version not in peer.families:
        return None, None
    delta = _delta(decision, peer.ip)
    route = delta.route if delta else decision.best
    if route is None:
        return None, None
    return route, export_attributes(route, peer, version)


def step_for(decision: Decision | PrefixDecision, peer: Peer) -> str:
    """The decision step that settled what this client is sent."""
    if ip_version(decision.prefix) not in peer.families:
        return Step.NO_CANDIDATE
    delta = _delta(decision, peer.ip)
    return delta.step if delta else decision.step
