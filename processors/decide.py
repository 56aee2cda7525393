"""The BGP decision process as a route server applies it (RFC 4271 §9.1.2; RFC 7947 §2.3). Pure.

It is an elimination, as §9.1.2.2 describes it: each step removes from consideration the routes
that are not the best by one criterion, in order, until one route is left. The step that leaves
one route is the step that settled the decision.

Every criterion but MED is a total order, so the candidates are first put in that order (their
rank, a tuple read once per route). The routes a step keeps are then the leading ones that share
the first one's value, and the step that leaves one route is the first criterion by which the
two leading routes differ: settling a decision is comparing two tuples, not filtering the pool.
MED is compared only between routes from the same neighbour AS, which is not a total order: that
step really removes routes (from the leading ones that tie up to ORIGIN), and it never sorts.
The result does not depend on the order the candidates are given in.

Removing candidates keeps the others in rank order, so a client's own view of a decision (the
default candidates less some) is decided without sorting again; and removing routes behind the
few that the result depends on (`Selection.contenders`) changes nothing at all.

Steps that do not apply to a route server are left out: §9.1.2.2 d) (EBGP over IBGP: every route
here is EBGP) and e) (interior cost to the NEXT_HOP: every next hop is on the peering LAN).
"""

from __future__ import annotations

import functools
import ipaddress
from bisect import insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple, Self

from schemas.attributes import SegmentType
from schemas.events import Route

_AS_SEQUENCE = SegmentType.AS_SEQUENCE

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
    # The criteria before MED: routes equal in these are the ones MED compares.
    level: tuple[int, int, int]
    # Every criterion but MED, in §9.1.2 order, each as "lower is better".
    rank: tuple[int, int, int, int, tuple[int, int, str]]

    @classmethod
    def of(cls, route: Route, **more: Any) -> Self:
        """The candidate for a route; `more` are the fields of a subclass."""
        return cls(*candidate_values(route), **more)


def candidate_values(route: Route) -> tuple[Any, ...]:
    """Candidate's fields for a route, in their order: what Candidate.of() gives, for
    builders that take the fields positionally (schemas.decoder.constructor)."""
    attrs = route.attributes
    session = route.session
    local_pref = DEFAULT_LOCAL_PREF if attrs.local_pref is None else attrs.local_pref
    as_path = attrs.as_path
    if len(as_path) == 1 and as_path[0].type == _AS_SEQUENCE:
        path_length = len(as_path[0].asns)  # path_length() of one AS_SEQUENCE, no loop
    else:
        path_length = attrs.path_length()
    origin = int(attrs.origin)
    # The peer's BGP Identifier, from its OPEN: on the route, or else on its session.
    router_id = _parse_router_id(route.router_id or session.router_id)
    peer_order = _peer_order(session.peer_address, session.speaker_id)
    level = _shared((-local_pref, path_length, origin))
    return (
        route,
        local_pref,
        -local_pref,  # preference
        path_length,
        origin,
        # §9.1.2.2 c): for an EBGP route, neighborAS is the AS it was received from.
        session.peer_asn,
        # §9.1.2.2 c): a route without MED is treated as having the lowest value.
        0 if attrs.med is None else attrs.med,
        router_id,
        peer_order,
        level,
        _shared((*level, router_id, peer_order)),  # rank
    )


@functools.lru_cache(maxsize=4096)
def _parse_router_id(text: str) -> int:
    return int(ipaddress.IPv4Address(text)) if text else UNKNOWN_ROUTER_ID


@functools.lru_cache(maxsize=4096)  # one tuple per session, shared by its routes (see _shared)
def _peer_order(text: str, speaker_id: str) -> tuple[int, int, str]:
    address = ipaddress.ip_address(text)
    return address.version, int(address), speaker_id


# Equal keys as one object: candidates share their rank and level tuples (few distinct values:
# one per session and AS_PATH length, mostly), which keeps what sorting and the steps read
# few and in the CPU cache. Measured: decide_prefix about 4 % faster than with a tuple each.
@functools.lru_cache(maxsize=1 << 16)
def _shared(key: tuple) -> tuple:
    return key


Pool = tuple[Candidate, ...] | list[Candidate]
_RANK = attrgetter("rank")


class Selection(NamedTuple):
    """The outcome of the decision process over one set of candidates.

    `ranked` is every candidate, in rank order. `contenders` are the leading routes of it that
    the outcome depends on: removing any of the others, in any number, changes neither the
    winner nor the step (see _select).

    A NamedTuple rather than a frozen dataclass: one is built per decision, and this is
    cheaper to build.
    """

    winner: Candidate | None
    step: Step
    ranked: tuple[Candidate, ...]
    contenders: tuple[Candidate, ...]

    def view(
        self, removed: Sequence[Candidate], added: Sequence[Candidate] = ()
    ) -> tuple[Candidate | None, Step]:
        """The winner and step over these candidates less `removed` and with `added`: one
        client's view of the decision. The candidates are in rank order already, so this only
        runs the steps again, and only if the outcome may change."""
        if not added:
            for gone in removed:
                if gone in self.contenders:
                    break
            else:
                return self.winner, self.step
        ranked = self.ranked
        if len(removed) == 1 and not added:
            # One route less, most often a client's own: two slices, no test per route.
            i = ranked.index(removed[0])
            pool = ranked[:i] + ranked[i + 1 :]
        else:
            pool = [c for c in ranked if c not in removed]
            for c in added:  # rare (announce_to_peer): put in rank order, not sorted again
                insort(pool, c, key=_RANK)
        winner, step, _ = _select(pool)
        return winner, step


def decide(candidates: Iterable[Candidate]) -> Selection:
    """The best candidate and the step that settled it. The input order does not matter."""
    ranked = tuple(sorted(candidates, key=_RANK))
    winner, step, contenders = _select(ranked)
    return Selection(winner, step, ranked, ranked[:contenders])


def _select(pool: Pool) -> tuple[Candidate | None, Step, int]:
    """The process over a pool in rank order: the winner, the step that settled it, and how
    many leading routes of the pool that depends on.

    Each step keeps the routes that share the first one's value (the pool is in rank order),
    so it leaves one route exactly when the second one differs from the first by it. Routes
    behind the first two matter only to MED, and then only those that reach it."""
    if len(pool) < 2:
        return (pool[0], Step.ONLY_CANDIDATE, 1) if pool else (None, Step.NO_CANDIDATE, 0)
    first, second = pool[0], pool[1]
    # §9.1.2.1: the highest degree of preference. That is LOCAL_PREF as the import policy set
    # it (for instance 0 for GRACEFUL_SHUTDOWN, RFC 8326); the received value is already gone
    # (RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored).
    if first.preference != second.preference:
        return first, Step.LOCAL_PREF, 2
    # §9.1.2.2 a): the shortest AS_PATH. An AS_SET counts as one, confederation segments as
    # none (Attributes.path_length).
    if first.path_length != second.path_length:
        return first, Step.AS_PATH_LENGTH, 2
    # §9.1.2.2 b): the lowest ORIGIN: IGP, then EGP, then INCOMPLETE.
    if first.origin != second.origin:
        return first, Step.ORIGIN, 2
    # §9.1.2.2 c): MED, over the routes the steps above left (see _med).
    left, reached = _med(pool)
    if len(left) == 1:
        return left[0], Step.MED, reached
    first, second = left[0], left[1]
    # §9.1.2.2 f): the lowest BGP Identifier of the peer the route came from.
    if first.router_id != second.router_id:
        return first, Step.ROUTER_ID, reached
    # §9.1.2.2 g): the lowest peer address. Two speakers may each hold a session with the same
    # address; the speaker id then decides, so that the result is always one route.
    if first.peer_order != second.peer_order:
        return first, Step.PEER_ADDRESS, reached
    raise ValueError("two candidates from one session: a prefix has one route per session")


def _med(pool: Pool) -> tuple[Pool, int]:
    """The routes MED keeps of those that reach it (the leading routes that share the first
    one's LOCAL_PREF, AS_PATH length and ORIGIN), in rank order; and what the result depends
    on: the first two routes if MED compares none of them, else all that reach it."""
    level = pool[0].level
    end = 2  # the first two reach it: they tie by every step before
    while end < len(pool) and pool[end].level == level:
        end += 1
    reached = pool[:end]
    # A route is removed if another route from the same neighbour AS has a lower MED. Routes
    # from different neighbour ASes are never compared, so this is not a sort: each neighbour
    # AS keeps its routes with its own lowest MED.
    if len({c.neighbor_as for c in reached}) == end:
        # One route per neighbour AS: MED removes none, now or after removing any of them.
        return reached, 2
    lowest: dict[int, int] = {}
    for c in reached:
        if c.med < lowest.get(c.neighbor_as, c.med + 1):
            lowest[c.neighbor_as] = c.med
    return [c for c in reached if c.med == lowest[c.neighbor_as]], end


def best_route(routes: Iterable[Route]) -> tuple[Route | None, Step]:
    """The decision process over plain routes: the winner and the step that settled it."""
    selection = decide(Candidate.of(route) for route in routes)
    winner = selection.winner
    return (winner.route if winner else None), selection.step
