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

The work per prefix is one decision for the default, then a look at each client a candidate
singles out (its own session, its ASN on the path, a community naming it, or a blackhole setting
of its own: `Offer.exceptions`, found once per UPDATE). That depends on the candidates' AS_PATHs
and communities, not on the number of clients. A client that only loses candidates that the
default outcome does not depend on keeps it without any work (`Selection.contenders`); the
others are decided again over the default decision's candidates, already in rank order, less
theirs (`Selection.view`). The property tests prove every client's result equal to a run of the
decision process over only the candidates that client may receive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from processors.decide import Selection, Step, decide
from processors.export import ExportPolicy, Offer, Peer, export_attributes
from schemas.attributes import Attributes
from schemas.decoder import constructor
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
        return _new_decision(header, event_id, position, self.prefix, self.best, self.step,
                             self.candidates, self.outcomes)


# One PrefixDecision per decision made, and one Decision per decided prefix: built by slot
# setters, in half the time of the frozen dataclasses' __init__ (schemas.decoder.constructor).
_new_prefix_decision = constructor(PrefixDecision)
_new_decision = constructor(Decision)


# dict first: isinstance() then settles the usual case without the slower ABC check.
_MAPPINGS = (dict, Mapping)


def ip_version(prefix: str) -> int:
    return 6 if ":" in prefix else 4


def decide_prefix(
    prefix: str, offers: Mapping[Any, Offer] | Iterable[Offer], policy: ExportPolicy
) -> PrefixDecision:
    """The decision for a prefix, from its candidates as `ExportPolicy.analyze` read them.

    `offers` is the prefix's candidate set, e.g. peer key -> Offer; the keys are not used.
    """
    pool = tuple(offers.values() if isinstance(offers, _MAPPINGS) else offers)
    version = 6 if ":" in prefix else 4  # ip_version()
    base = decide([o for o in pool if version in o.ordinary_in])
    outcomes = _deltas(pool, base, version, policy)
    winner = base.winner
    # once per decision made (most of a churn's prefixes): built by slot setters
    return _new_prefix_decision(prefix, winner.route if winner else None, base.step,
                                len(pool), outcomes)


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
    winner, default_step = base.winner, base.step
    styled: frozenset[str] | set[str] = _NO_STYLED
    if isinstance(winner, Offer) and winner.styled:
        styled = {ip for ip in winner.styled if version in policy.by_ip[ip].families}
    removed, added = _differences(pool, base, version)
    found: dict[str, ClientOutcome] = {}
    for peer, lost in removed.items():
        best, step = base.view(lost, added.get(peer, ()) if added else ())
        if best is not winner or step != default_step or peer.ip in styled:
            found[peer.ip] = ClientOutcome(peer.ip, best.route if best else None, step)
    for ip in styled:
        found.setdefault(ip, ClientOutcome(ip, _route(base), default_step))
    # Once per decision made (most of a churn's prefixes): usually no client differs
    if not found:
        return ()
    return tuple([found[ip] for ip in sorted(found)])


_NO_STYLED: frozenset[str] = frozenset()


Differences = dict[Peer, list[Offer]]


def _differences(
    pool: tuple[Offer, ...], base: Selection, version: int
) -> tuple[Differences, Differences]:
    """For each client whose outcome may differ from the default: the candidates it may not
    receive though an ordinary client may (removed, with a key for each of these clients),
    and the other way round (added).

    Those are the clients that lose one of the default decision's contenders, or gain a
    candidate. A client that only loses candidates behind the contenders keeps the default
    outcome (Selection.contenders), which is the case of most clients a candidate singles out
    (its own session first): those are passed over without building anything for them."""
    removed: Differences = {}
    added: Differences = {}
    for offer in base.contenders:  # the clients that may not receive a contender
        for peer in offer.exceptions[version]:
            removed[peer] = []
    if len(base.ranked) < len(pool):  # some candidates are not an ordinary client's
        for offer in pool:
            if version not in offer.ordinary_in:  # the clients that may receive it all the same
                for peer in offer.exceptions[version]:
                    added.setdefault(peer, []).append(offer)
                    removed.setdefault(peer, [])
    if removed:  # then everything these clients may not receive
        for offer in base.ranked:
            for peer in offer.exceptions[version]:
                if peer in removed:
                    removed[peer].append(offer)
    return removed, added


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
