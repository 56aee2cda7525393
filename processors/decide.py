"""The BGP decision process as a route server applies it (RFC 4271 §9.1.2; RFC 7947 §2.3). Pure.

It is an elimination, as §9.1.2.2 describes it: each step removes from consideration the routes
that are not the best by one criterion, in order, until one route is left. The step that leaves
one route is the step that settled the decision.

Every criterion but MED is a total order, so the candidates are first put in that order (their
rank); each of those steps then keeps the leading routes that share the first one's value, which
is the same elimination done by a binary search. MED is compared only between routes from the
same neighbour AS, which is not a total order: that step really removes routes, and it never
sorts. The result does not depend on the order the candidates are given in.

Steps that do not apply to a route server are left out: §9.1.2.2 d) (EBGP over IBGP: every route
here is EBGP) and e) (interior cost to the NEXT_HOP: every next hop is on the peering LAN).
"""

from __future__ import annotations

import functools
import ipaddress
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any, Self

from schemas.events import Route

# LOCAL_PREF of a route the import policy left without one: BIRD's `default bgp_local_pref`.
DEFAULT_LOCAL_PREF = 100
# A router id that is not known sorts after every real one (RFC 4271 §4.2: it is 32 bits).
UNKNOWN_ROUTER_ID = 1 << 32


class Step(StrEnum):
    """The step that settled a decision; these names appear in decision events."""

    NO_CANDIDATE = "no-candidate"
    ONLY_CANDIDATE = "only-candidate"
    LOCAL_PREF = "local-pref"
    AS_PATH_LENGTH = "as-path-length"
    ORIGIN = "origin"
    MED = "med"
    ROUTER_ID = "router-id"
    PEER_ADDRESS = "peer-address"


@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """A route with the values the decision process compares, read once.

    Compared by identity (eq=False): two candidates are the same only if they are one object,
    which keeps set membership cheap and never confuses two sessions' equal routes.
    """

    route: Route
    local_pref: int
    preference: int  # -local_pref, so that lower is better as for the other keys
    path_length: int
    origin: int
    neighbor_as: int
    med: int
    router_id: int
    peer_order: tuple[int, int, str]  # (IP version, address, speaker id)
    # Every criterion but MED, in §9.1.2 order, each as "lower is better".
    rank: tuple[int, int, int, int, tuple[int, int, str]]

    @classmethod
    def of(cls, route: Route, **more: Any) -> Self:
        """The candidate for a route; `more` are the fields of a subclass."""
        attrs = route.attributes
        session = route.session
        local_pref = DEFAULT_LOCAL_PREF if attrs.local_pref is None else attrs.local_pref
        path_length = attrs.path_length()
        origin = int(attrs.origin)
        # The peer's BGP Identifier, from its OPEN: on the route, or else on its session.
        router_id = _parse_router_id(route.router_id or session.router_id)
        peer_order = (*_parse_address(session.peer_address), session.speaker_id)
        return cls(
            route=route,
            local_pref=local_pref,
            preference=-local_pref,
            path_length=path_length,
            origin=origin,
            # §9.1.2.2 c): for an EBGP route, neighborAS is the AS it was received from.
            neighbor_as=session.peer_asn,
            # §9.1.2.2 c): a route without MED is treated as having the lowest value.
            med=0 if attrs.med is None else attrs.med,
            router_id=router_id,
            peer_order=peer_order,
            rank=(-local_pref, path_length, origin, router_id, peer_order),
            **more,
        )


@functools.lru_cache(maxsize=4096)
def _parse_router_id(text: str) -> int:
    return int(ipaddress.IPv4Address(text)) if text else UNKNOWN_ROUTER_ID


@functools.lru_cache(maxsize=4096)
def _parse_address(text: str) -> tuple[int, int]:
    address = ipaddress.ip_address(text)
    return address.version, int(address)


Pool = tuple[Candidate, ...]


# The steps, in the order §9.1.2 applies them. Each keeps the candidates that are best by one
# criterion, and never removes them all. A pool is always in rank order, so for every step but
# MED the best are the leading routes that share the first one's value.


def _leading(pool: Pool, key: Callable[[Candidate], object]) -> Pool:
    end = bisect_right(pool, key(pool[0]), key=key)
    return pool if end == len(pool) else pool[:end]


def _local_pref(pool: Pool) -> Pool:
    # §9.1.2.1: the highest degree of preference. That is LOCAL_PREF as the import policy set
    # it (for instance 0 for GRACEFUL_SHUTDOWN, RFC 8326); the received value is already gone
    # (RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored).
    return _leading(pool, attrgetter("preference"))


def _as_path_length(pool: Pool) -> Pool:
    # §9.1.2.2 a): the shortest AS_PATH. An AS_SET counts as one, confederation segments as
    # none (Attributes.path_length).
    return _leading(pool, attrgetter("path_length"))


def _origin(pool: Pool) -> Pool:
    # §9.1.2.2 b): the lowest ORIGIN: IGP, then EGP, then INCOMPLETE.
    return _leading(pool, attrgetter("origin"))


def _med(pool: Pool) -> Pool:
    # §9.1.2.2 c): a route is removed if another route from the same neighbour AS has a lower
    # MED. Routes from different neighbour ASes are never compared, so this is not a sort:
    # each neighbour AS keeps its routes with its own lowest MED.
    if len({c.neighbor_as for c in pool}) == len(pool):
        return pool  # one route per neighbour AS: nothing to compare
    lowest: dict[int, int] = {}
    for c in pool:
        if c.med < lowest.get(c.neighbor_as, c.med + 1):
            lowest[c.neighbor_as] = c.med
    kept = tuple([c for c in pool if c.med == lowest[c.neighbor_as]])
    return pool if len(kept) == len(pool) else kept


def _router_id(pool: Pool) -> Pool:
    # §9.1.2.2 f): the lowest BGP Identifier of the peer the route came from.
    return _leading(pool, attrgetter("router_id"))


def _peer_address(pool: Pool) -> Pool:
    # §9.1.2.2 g): the lowest peer address. Two speakers may each hold a session with the same
    # address; the speaker id then decides, so that the result is always one route.
    return _leading(pool, attrgetter("peer_order"))


PROCESS: tuple[tuple[Step, Callable[[Pool], Pool]], ...] = (
    (Step.LOCAL_PREF, _local_pref),
    (Step.AS_PATH_LENGTH, _as_path_length),
    (Step.ORIGIN, _origin),
    (Step.MED, _med),
    (Step.ROUTER_ID, _router_id),
    (Step.PEER_ADDRESS, _peer_address),
)
_RANK = attrgetter("rank")
# Index in Selection.rounds of the pool the MED step starts from.
_BEFORE_MED = 3


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of the decision process over one set of candidates.

    `rounds[0]` is every candidate, in rank order; `rounds[k]` is what was left after the k-th
    step that ran.
    The last round holds the winner alone. Empty when there was no candidate.
    """

    winner: Candidate | None
    step: Step
    rounds: tuple[Pool, ...]

    def harmless(self) -> set[Candidate]:
        """Candidates whose removal alone changes neither the winner nor the step.

        Before MED (see decide_without): those removed from rounds that keep two routes or more
        without them; these rounds lead rounds[0], so they are a tail of it. Those that reached
        MED qualify too if no round they are in shrinks to one route and their removal leaves
        MED's result alone (it removed nobody because of them)."""
        rounds = self.rounds
        if not rounds:
            return set()
        tail = len(rounds[0])
        for k in range(min(_BEFORE_MED, len(rounds) - 1)):
            if len(rounds[k]) < 3:
                return set(rounds[0][tail:])
            tail = len(rounds[k + 1])
        found = set(rounds[0][tail:])
        if len(rounds) > _BEFORE_MED + 1 and len(rounds[_BEFORE_MED]) > 2:
            found.update(c for c in rounds[_BEFORE_MED] if self._spare_at_med(c))
        return found

    def _spare_at_med(self, c: Candidate) -> bool:
        if c is self.winner or any(len(r) < 3 for r in self.rounds[_BEFORE_MED:-1] if c in r):
            return False
        reached, after = self.rounds[_BEFORE_MED], self.rounds[_BEFORE_MED + 1]
        if c not in after:
            return True  # MED removed it: a route of its neighbour AS with a lower MED stays
        group = [r for r in reached if r.neighbor_as == c.neighbor_as]
        kept = [r for r in group if r in after]
        return len(kept) == len(group) or len(kept) > 1

    def eliminated_by(self, candidate: Candidate) -> Step | None:
        """The step that removed `candidate`; None for the winner or a stranger."""
        for k in range(1, len(self.rounds)):
            if candidate in self.rounds[k - 1] and candidate not in self.rounds[k]:
                return PROCESS[k - 1][0]
        return None


def decide(candidates: Iterable[Candidate]) -> Selection:
    """The best candidate and the step that settled it. The input order does not matter."""
    pool = tuple(sorted(candidates, key=_RANK))
    if not pool:
        return Selection(None, Step.NO_CANDIDATE, ())
    rounds = (pool, *_run(pool, 0))
    return Selection(rounds[-1][0], _settled_by(len(rounds) - 1), rounds)


def _run(pool: Pool, first: int) -> list[Pool]:
    """The pools left after each step from PROCESS[first] on, until one route is left."""
    rounds = []
    for _, keep in PROCESS[first:]:
        if len(pool) == 1:
            return rounds
        pool = keep(pool)
        rounds.append(pool)
    if len(pool) != 1:
        raise ValueError("two candidates from one session: a prefix has one route per session")
    return rounds


def _settled_by(steps_run: int) -> Step:
    return PROCESS[steps_run - 1][0] if steps_run else Step.ONLY_CANDIDATE


# Removing candidates from a decision. The first three steps keep the candidates with the best
# value of a key of their own: as long as some candidate of a round is left, that round less
# the removed ones is exactly what the process would keep. So the process runs again only from
# the first round the removal empties. MED is the first step where one route's presence removes
# another, so the rounds from MED on stay only if no removed route reached the MED step.


def decide_without(base: Selection, removed: Collection[Candidate]) -> Selection:
    """decide() over base's candidates less `removed`, rounds and all, reusing base's work."""
    if not removed or base.winner is None:
        return base
    gone = set(removed)
    rounds: list[Pool] = []
    for pool in base.rounds[: _BEFORE_MED + 1]:
        left = tuple([c for c in pool if c not in gone])
        if not left:
            break
        rounds.append(left)
        if len(left) == 1:
            return Selection(left[0], _settled_by(len(rounds) - 1), tuple(rounds))
    if not rounds:
        return Selection(None, Step.NO_CANDIDATE, ())
    if len(rounds) > _BEFORE_MED and len(rounds[-1]) == len(base.rounds[_BEFORE_MED]):
        rounds += base.rounds[_BEFORE_MED + 1 :]
    else:
        rounds += _run(rounds[-1], len(rounds) - 1)
    return Selection(rounds[-1][0], _settled_by(len(rounds) - 1), tuple(rounds))


def winner_without(base: Selection, removed: Sequence[Candidate]) -> tuple[Candidate | None, Step]:
    """The winner and step of decide_without(), without building its rounds: per client, this
    is all a decision needs. Counts what each round loses before filtering anything."""
    if not removed or base.winner is None:
        return base.winner, base.step
    rounds = base.rounds
    last = min(_BEFORE_MED, len(rounds) - 1)
    lone = removed[0] if len(removed) == 1 else None
    for k in range(last + 1):
        pool = rounds[k]
        if lone is not None:
            left = len(pool) - (lone in pool)
        else:
            left = len(pool) - sum(1 for c in removed if c in pool)
        if left == 1:
            return next(c for c in pool if c not in removed), _settled_by(k)
        if left == 0:
            return _again(rounds, k - 1, removed)
    if not any(c in rounds[last] for c in removed):
        return base.winner, base.step
    return _again(rounds, last, removed)


def _again(
    rounds: tuple[Pool, ...], k: int, removed: Collection[Candidate]
) -> tuple[Candidate | None, Step]:
    """Run the process again from round k, less the removed candidates."""
    if k < 0:
        return None, Step.NO_CANDIDATE
    pool = tuple([c for c in rounds[k] if c not in removed])
    after = _run(pool, k)
    return (after[-1] if after else pool)[0], _settled_by(k + len(after))


def best_route(routes: Iterable[Route]) -> tuple[Route | None, Step]:
    """The decision process over plain routes: the winner and the step that settled it."""
    selection = decide(Candidate.of(route) for route in routes)
    winner = selection.winner
    return (winner.route if winner else None), selection.step
