"""Whatever happens, every client's router holds exactly what `outcome_for` says.

Random configurations and candidate sets (tests/decide/strategies.py), random sessions
(2- or 4-octet AS, either family or both, enhanced route refresh or not) coming and going,
decisions in batches, re-emitted decisions, refreshes. After each step, the Adj-RIB-In of
each client's router, rebuilt by decoding every byte it was sent, equals both the
Adj-RIB-Out the core keeps and `on_the_wire(outcome_for(decision, peer))` over the
decisions in force.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.export import ExportPolicy
from schemas.events import Decision, Route
from speaker.codec import IPV4_UNICAST, IPV6_UNICAST, Negotiated
from speaker.outbound import Outbound
from tests.decide.strategies import candidate_sets, policies
from tests.outbound.build import Feed, Router, expected

PREFIXES = ("185.50.0.0/24", "185.50.1.0/24", "185.50.0.0/16", "2a0c:9a40::/32", "2001:db8::/48")
ACTIONS = ("decide",) * 4 + ("up", "up", "down", "again", "refresh")
V4, V6 = frozenset({IPV4_UNICAST}), frozenset({IPV6_UNICAST})


@st.composite
def with_next_hops(draw: st.DrawFn, prefix: str, routes: list[Route]) -> list[Route]:
    """The candidates with next hops of the prefix's family, but now and then an IPv6 one
    for an IPv4 prefix, as from an RFC 8950 session (never sent: no extended next hop).
    Half of the sets lose their communities, many of which keep a route from everyone."""
    out = []
    plain = draw(st.booleans())
    for r in routes:
        if plain:
            r = replace(
                r,
                attributes=replace(
                    r.attributes, communities=(), large_communities=(), ext_communities=()
                ),
            )
        if ":" in prefix:
            link_local = draw(st.sampled_from([None, "fe80::250"]))
            attrs = replace(r.attributes, next_hop="2001:db8:1::250")
            attrs = replace(attrs, next_hop_link_local=link_local)
        else:
            next_hop = draw(st.sampled_from(["192.0.2.250"] * 5 + ["2001:db8:1::250"]))
            attrs = replace(r.attributes, next_hop=next_hop)
        out.append(replace(r, attributes=attrs))
    return out


NEGOTIATED = st.builds(
    Negotiated,
    four_octet_as=st.booleans(),
    families=st.sampled_from([V4, V6, V4 | V6, V4 | V6]),
    route_refresh=st.just(True),
    enhanced_route_refresh=st.booleans(),
)


def _check(outbound: Outbound, routers: dict[str, Router]) -> None:
    for address, router in routers.items():
        router.receive(outbound.take(address))
        assert router.rib == expected(outbound, address, router.negotiated)
        assert router.rib == outbound.sent_to(address)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_every_client_holds_what_outcome_for_says(data: st.DataObject) -> None:
    config = data.draw(policies())
    policy = ExportPolicy.from_config(config)
    sessions = [(c.ip, c.asn) for c in config.clients]
    outbound, feed = Outbound(policy), Feed(policy)
    routers: dict[str, Router] = {}
    emitted: list[Decision] = []
    for _ in range(data.draw(st.integers(1, 12))):
        action = data.draw(
            st.sampled_from(["decide", "decide", "decide", "up", "down", "again", "refresh"])
        )
        if action == "decide":
            batch = []
            for _ in range(data.draw(st.integers(1, 6))):
                prefix = data.draw(st.sampled_from(PREFIXES))
                routes = data.draw(st.one_of(candidate_sets(sessions), st.just([])))
                batch.append(feed.decide(prefix, data.draw(with_next_hops(prefix, routes))))
            emitted += batch
            outbound.apply(batch)
        elif action == "up":
            address = data.draw(st.sampled_from([ip for ip, _ in sessions]))
            negotiated = data.draw(NEGOTIATED)
            outbound.establish(address, negotiated)
            routers[address] = Router(negotiated)
            routers[address].receive(outbound.take(address))
            assert routers[address].end_of_rib == sorted(negotiated.families)
        elif action == "down" and routers:
            address = data.draw(st.sampled_from(sorted(routers)))
            outbound.drop(address)
            del routers[address]
        elif action == "again" and emitted:
            replayed = data.draw(st.lists(st.sampled_from(emitted), min_size=1, max_size=3))
            assert outbound.apply(replayed).output == {}
        elif action == "refresh" and routers:
            address = data.draw(st.sampled_from(sorted(routers)))
            router = routers[address]
            _check(outbound, routers)
            for family in sorted(router.negotiated.families):
                again = Router(router.negotiated)
                again.receive(outbound.refresh(address, family).output.get(address, ()))
                outbound.take(address)
                version = 6 if family == IPV6_UNICAST else 4
                assert again.rib == {
                    p: a for p, a in router.rib.items() if (":" in p) == (version == 6)
                }
                if router.negotiated.enhanced_route_refresh:
                    assert [r.subtype for r in again.refreshes] == [1, 2]
        _check(outbound, routers)
