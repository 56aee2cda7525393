"""Whatever happens, every client's router holds exactly what `outcome_for` says.

Random configurations and candidate sets (tests/decide/strategies.py), random sessions
(2- or 4-octet AS, either family or both, enhanced route refresh or not) coming and going,
decisions in batches, re-emitted decisions, refreshes, configuration reloads (a new random
configuration: clients added, removed, their ASNs and settings changed, other rules; the
decisions in force stay those of the old one until new ones come, decided under the new
one). After each step, the Adj-RIB-In of
each client's router, rebuilt by decoding every byte it was sent, equals both the
Adj-RIB-Out the core keeps and `on_the_wire(outcome_for(decision, peer))` over the
decisions in force.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.export import ExportPolicy
from schemas.events import Decision, Route
from speaker.codec import IPV4_UNICAST, IPV6_UNICAST, Negotiated
from speaker.outbound import Outbound
from tests.decide.build import COMMUNITIES, RS_AS, config
from tests.decide.strategies import (
    ADDRESSES,
    CLIENT_ASNS,
    candidate_sets,
    client_entry,
    general_options,
    policies,
)
from tests.outbound.build import Feed, Router, expected

PREFIXES = ("185.50.0.0/24", "185.50.1.0/24", "185.50.0.0/16", "2a0c:9a40::/32", "2001:db8::/48")
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


@st.composite
def reloaded(draw: st.DrawFn, clients: list[tuple[str, int]]) -> Any:
    """A configuration reload: most clients stay (some with another ASN), each with new
    random settings, a few go, a few come; other general options, sometimes another rs_as
    or fewer control communities."""
    mapped = draw(st.booleans())
    entries = []
    for ip, asn in clients:
        if draw(st.integers(0, 5)) == 0:
            continue  # removed
        if draw(st.integers(0, 5)) == 0:
            asn = draw(st.sampled_from(CLIENT_ASNS))
        entries.append(draw(client_entry(ip, asn, mapped)))
    present = {ip for ip, _ in clients}
    for ip in draw(st.lists(st.sampled_from(ADDRESSES), max_size=2, unique=True)):
        if ip not in present:
            entries.append(draw(client_entry(ip, draw(st.sampled_from(CLIENT_ASNS)), mapped)))
    if not entries:
        entries.append(draw(client_entry(ADDRESSES[0], CLIENT_ASNS[0], mapped)))
    general = draw(general_options())
    general["rs_as"] = draw(st.sampled_from([RS_AS, RS_AS, 64900]))
    if draw(st.booleans()):
        kept = draw(st.sets(st.sampled_from(sorted(COMMUNITIES))))
        kept.add("reject_cause")  # mandatory with reject_policy "tag"
        general["communities"] = {k: v for k, v in COMMUNITIES.items() if k in kept}
    return config(entries, **general)


NEGOTIATED = st.builds(
    Negotiated,
    four_octet_as=st.booleans(),
    families=st.sampled_from([V4, V6, V4 | V6, V4 | V6]),
    route_refresh=st.just(True),
    enhanced_route_refresh=st.booleans(),
)


def _batch(data: st.DataObject, feed: Feed, sessions: list[tuple[str, int]]) -> list[Decision]:
    batch = []
    for _ in range(data.draw(st.integers(1, 6))):
        prefix = data.draw(st.sampled_from(PREFIXES))
        routes = data.draw(st.one_of(candidate_sets(sessions), st.just([])))
        batch.append(feed.decide(prefix, data.draw(with_next_hops(prefix, routes))))
    return batch


def _up(data: st.DataObject, outbound: Outbound, routers: dict[str, Router], address: str) -> None:
    negotiated = data.draw(NEGOTIATED)
    outbound.establish(address, negotiated)
    routers[address] = Router(negotiated)
    routers[address].receive(outbound.take(address))
    assert routers[address].end_of_rib == sorted(negotiated.families)


def _reload(
    outbound: Outbound, routers: dict[str, Router], config: Any
) -> tuple[Feed, list[tuple[str, int]]]:
    """Reload: check that only real changes went out, and the memory bounds; the feed and
    the sessions of the new configuration."""
    policy = ExportPolicy.from_config(config)
    before = {address: dict(router.rib) for address, router in routers.items()}
    report = outbound.reconfigure(policy)
    assert report.overflowed == ()
    for address in list(routers):
        if policy.peer(address) is None:  # the speaker closes its session
            assert address not in report.output and address not in outbound.clients
            del routers[address]
    for address, messages in report.output.items():
        assert all(m.caused_by for m in messages)
        assert outbound.take(address) == list(messages)
        updates = routers[address].receive(messages)
        # only real changes: every prefix it is told about changed for it
        for update in updates:
            for prefix in update.withdrawals():
                assert prefix in before[address]
            for attrs, prefixes in update.announced():
                assert all(before[address].get(p) != attrs for p in prefixes)
    _bounds(outbound)
    return Feed(policy, offset=_offset(outbound)), [(c.ip, c.asn) for c in config.clients]


def _offset(outbound: Outbound) -> int:
    return max((d.input.offset for d in outbound.table.decisions.values()), default=0) + 1000


def _bounds(outbound: Outbound) -> None:
    """One group per key in use; a group entry per prefix in force at most; exceptions only
    where the decision in force names the client."""
    keys = {client.group.key for client in outbound.clients.values()}
    assert set(outbound.groups) == keys
    for group in outbound.groups.values():
        assert group.sent.keys() <= outbound.table.decisions.keys()
    for address, client in outbound.clients.items():
        named = outbound.table.deltas_for(address) | {
            p for p, found in outbound._styled.items() if address in found
        }
        assert client.exceptions.keys() <= named


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
    for _ in range(data.draw(st.integers(1, 14))):
        action = data.draw(
            st.sampled_from(
                ["decide", "decide", "decide", "up", "down", "again", "refresh", "reload"]
            )
        )
        if action == "decide":
            batch = _batch(data, feed, sessions)
            emitted += batch
            outbound.apply(batch)
        elif action == "up":
            _up(data, outbound, routers, data.draw(st.sampled_from([ip for ip, _ in sessions])))
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
        elif action == "reload":
            config = data.draw(st.one_of(policies(), reloaded(sessions)))
            feed, sessions = _reload(outbound, routers, config)
        _check(outbound, routers)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_after_reloads_every_client_holds_what_outcome_for_says(data: st.DataObject) -> None:
    """Clients up and routes in force, then reloads between batches of decisions (decided
    under the new configuration) and sessions coming up, clients added by a reload too."""
    config = data.draw(policies())
    policy = ExportPolicy.from_config(config)
    sessions = [(c.ip, c.asn) for c in config.clients]
    outbound, feed = Outbound(policy), Feed(policy)
    routers: dict[str, Router] = {}
    for ip, _ in sessions:
        if data.draw(st.integers(0, 3)):
            _up(data, outbound, routers, ip)
    for _ in range(data.draw(st.integers(1, 3))):
        outbound.apply(_batch(data, feed, sessions))
    _check(outbound, routers)
    for _ in range(data.draw(st.integers(1, 3))):
        config = data.draw(st.one_of(reloaded(sessions), reloaded(sessions), policies()))
        feed, sessions = _reload(outbound, routers, config)
        _check(outbound, routers)
        for ip, _ in sessions:
            if ip not in routers and data.draw(st.booleans()):
                _up(data, outbound, routers, ip)  # its full table, under the new policy
        _check(outbound, routers)
        if data.draw(st.booleans()):
            outbound.apply(_batch(data, feed, sessions))
            _check(outbound, routers)
