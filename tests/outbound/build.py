"""Decisions as a worker emits them, and a receiving router that decodes what it is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from processors.export import ExportPolicy
from processors.views import decide_routes, outcome_for
from schemas.attributes import Attributes
from schemas.events import ClientOutcome, Decision, EventHeader, Position, Route
from speaker.codec import (
    IPV4_UNICAST,
    IPV6_UNICAST,
    Negotiated,
    RefreshSubtype,
    RouteRefresh,
    Update,
    decode,
)
from speaker.outbound import Kind, Outbound, Outgoing
from speaker.outbound.wire import carried_versions, on_the_wire, version_of, wire_params
from tests.decide.build import CLIENTS, client_doc, policy, route

HEADER = EventHeader("worker-1", 0, 0)
TOPIC = "ixrs.routes"
BOTH = frozenset({IPV4_UNICAST, IPV6_UNICAST})
FOUR = Negotiated(families=BOTH)  # a 4-octet AS session with both families
TWO = Negotiated(four_octet_as=False, families=BOTH)
V4_ONLY = Negotiated(families=frozenset({IPV4_UNICAST}))
ERR = Negotiated(families=BOTH, route_refresh=True, enhanced_route_refresh=True)

# Sessions of tests/decide/build.py: A and A2 are AS20002, B AS3333, C AS196615 (4-octet),
# D AS8283, E AS20940; plus two IPv6 sessions, V6 (AS3333's second router, IPv6 only) and
# W6 (AS8283's, carrying IPv4 too: RFC 8950), and P, which has prepend_rs_as.
A, A2, B, C, D, E = (ip for ip, _ in CLIENTS)
V6, W6, P = "2001:db8:1::3", "2001:db8:1::5", "192.0.2.7"
PREFIX4 = "185.50.0.0/24"
PREFIX6 = "2a0c:9a40::/32"


def clients() -> list[dict[str, Any]]:
    return [
        *(client_doc(ip, asn) for ip, asn in CLIENTS),
        client_doc(V6, 3333),
        client_doc(W6, 8283, rfc8950=True),
        client_doc(P, 64700, prepend_rs_as=True),
    ]


def make_policy(**general: Any) -> ExportPolicy:
    return policy(clients(), **general)


def route6(address: str, asn: int, *transit: int, **attrs: Any) -> Route:
    """A route from an IPv6 session; its next hop is the session's address."""
    return route(address, *transit, asn=asn, router_id="10.0.0.9", **attrs)


@dataclass
class Feed:
    """Decisions as one worker emits them: decided from candidates, input offsets growing."""

    policy: ExportPolicy
    partition: int = 0
    offset: int = 0

    def decide(self, prefix: str, routes: Iterable[Route]) -> Decision:
        self.offset += 1
        position = Position(TOPIC, self.partition, self.offset)
        event_id = f"{position.event_id()}/{prefix}"
        return decide_routes(prefix, list(routes), self.policy).to_event(HEADER, event_id, position)

    def made(
        self,
        prefix: str,
        best: Route | None,
        outcomes: tuple[ClientOutcome, ...] = (),
    ) -> Decision:
        """A decision written by hand."""
        self.offset += 1
        position = Position(TOPIC, self.partition, self.offset)
        return Decision(
            HEADER, f"{position.event_id()}/{prefix}", position, prefix, best, "", 1, outcomes
        )


@dataclass
class Router:
    """A client router: decodes every message it is sent and keeps its Adj-RIB-In."""

    negotiated: Negotiated
    rib: dict[str, Attributes] = field(default_factory=dict)
    end_of_rib: list[tuple[int, int]] = field(default_factory=list)
    refreshes: list[RouteRefresh] = field(default_factory=list)
    updates: int = 0

    def receive(self, messages: Iterable[Outgoing]) -> list[Update]:
        out = []
        for message in messages:
            decoded = decode(message.raw, self.negotiated)
            if isinstance(decoded, RouteRefresh):
                assert message.kind == (
                    Kind.BORR if decoded.subtype == RefreshSubtype.BEGIN else Kind.EORR
                )
                self.refreshes.append(decoded)
                continue
            assert isinstance(decoded, Update) and not decoded.notes, decoded
            family = decoded.end_of_rib()
            if family is not None:
                assert message.kind == Kind.END_OF_RIB
                self.end_of_rib.append(family)
                continue
            assert message.kind == Kind.UPDATE
            self.updates += 1
            for prefix in decoded.withdrawals():
                assert prefix in self.rib, f"withdrawal of {prefix}, never announced"
                del self.rib[prefix]
            for attrs, prefixes in decoded.announced():
                for prefix in prefixes:
                    self.rib[prefix] = attrs
            out.append(decoded)
        return out


def expected(outbound: Outbound, address: str, negotiated: Negotiated) -> dict[str, Attributes]:
    """What the client is to have, from `outcome_for` over the decisions in force."""
    peer = outbound.policy.peer(address)
    assert peer is not None
    versions = carried_versions(peer.families, negotiated)
    out = {}
    for prefix, decision in outbound.table.decisions.items():
        version = version_of(prefix)
        if version not in versions:
            continue
        _route, attrs = outcome_for(decision, peer)
        value = on_the_wire(attrs, version, wire_params(negotiated)) if attrs else None
        if value is not None:
            out[prefix] = value
    return out
