"""The speaker with real BIRD, GoBGP and ExaBGP clients on a namespace IXP LAN,
IPv4 and IPv6, 4-octet ASNs and a 2-octet peer (issue 3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from processors.ribin import AdjRibIn
from schemas.events import (
    PeerNotice,
    ReceivedRoutes,
    SessionChange,
    SessionState,
    SpeakerIncarnation,
)
from tests.helpers import per_update, wait_for
from tests.interop.system import IxrsOnLan
from tests.lab.fixtures import Lab, require_tools
from tests.lab.netns import DEFAULT_PREFIX, IxpLan, cleanup_stale
from tests.lab.peers import BirdPeer, ExabgpPeer, GobgpPeer, Neighbor, PeerSpec, Route, RouteView

ROOT = Path(__file__).resolve().parents[2]
RS_AS = 59900

CLIENTS = """
clients:
  - asn: 20002
    ip: ["192.0.2.2", "2001:db8:1::2"]
  - asn: 20003
    ip: ["192.0.2.3", "2001:db8:1::3"]
  - asn: 196615
    ip: ["192.0.2.4", "2001:db8:1::4"]
  - asn: 20005
    ip: "192.0.2.5"
  - asn: 20006
    ip: "192.0.2.6"
    cfg:
      filtering:
        max_prefix:
          action: "shutdown"
          limit_ipv4: 3
  - asn: 20007
    ip: "192.0.2.7"
  - asn: 20008
    ip: "192.0.2.8"
    cfg:
      passive: False
  - asn: 20009
    ip: "192.0.2.9"
    cfg:
      passive: False
"""

A_ROUTES = (
    Route("185.50.0.0/24", as_path=(3333,), communities=((20002, 100),),
          large_communities=((20002, 1, 2),), med=10),
    Route("2a0c:9a40::/32", as_path=(3333,), communities=((20002, 101),)),
)
B_ROUTES = (Route("185.51.0.0/24", as_path=(8283,)), Route("2a0c:9a41::/32"))
C_ROUTES = (Route("185.52.0.0/24", as_path=(212232,), large_communities=((196615, 7, 7),)),
            Route("2a0c:9a42::/32", as_path=(212232,)))
D_ROUTES = (Route("185.53.0.0/24", as_path=(196615,)),)
E_ROUTES = tuple(Route(f"185.54.{i}.0/24") for i in range(4))
F_ROUTES = (Route("185.55.0.0/24"),)


@dataclass
class World:
    rs: IxrsOnLan
    a: BirdPeer
    b: GobgpPeer
    c: ExabgpPeer
    d: ExabgpPeer
    e: BirdPeer
    f: BirdPeer
    g: BirdPeer  # passive itself: only the route server's active mode can bring it up
    h: BirdPeer  # active on both sides: connections may collide


def _both(rs_host, hold_time: int = 90) -> tuple[Neighbor, ...]:
    return (Neighbor(rs_host.v4, RS_AS, hold_time=hold_time),
            Neighbor(rs_host.v6, RS_AS, hold_time=hold_time))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_tools("bird", "gobgp", "exabgp")
    workdir = tmp_path_factory.mktemp("interop")
    clients = workdir / "clients.yml"
    clients.write_text(CLIENTS)
    cleanup_stale(DEFAULT_PREFIX)
    with IxpLan(DEFAULT_PREFIX) as lan, Lab(lan, workdir) as lab:
        rs_host = lab.host("rs")
        rs = IxrsOnLan(rs_host, workdir, ROOT / "examples" / "general.yml", clients)
        try:
            rs.start_broker()
            rs.start_speaker()
            v4_only = (Neighbor(rs_host.v4, RS_AS),)
            world = World(
                rs,
                lab.bird(lab.host("a"), PeerSpec(20002, _both(rs_host), A_ROUTES)),
                lab.gobgp(lab.host("b"), PeerSpec(20003, _both(rs_host), B_ROUTES)),
                lab.exabgp(lab.host("c"), PeerSpec(196615, _both(rs_host), C_ROUTES)),
                lab.exabgp(lab.host("d"), PeerSpec(20005, v4_only, D_ROUTES), asn4=False),
                lab.bird(lab.host("e"), PeerSpec(20006, v4_only)),
                lab.bird(lab.host("f"), PeerSpec(20007, (Neighbor(rs_host.v4, RS_AS,
                                                                   hold_time=3),), F_ROUTES)),
                lab.bird(lab.host("g"), PeerSpec(20008, (Neighbor(rs_host.v4, RS_AS,
                                                                   passive=True),))),
                lab.bird(lab.host("h"), PeerSpec(20009, v4_only)),
            )
            yield world
        finally:
            rs.close()


def _view(prefix: str, event: ReceivedRoutes) -> RouteView:
    attrs = event.attributes
    assert attrs is not None
    return RouteView.build(prefix, attrs.next_hop or "", attrs.path_asns(), attrs.communities,
                           attrs.large_communities, attrs.med, attrs.origin.name.lower())


def _received(world: World) -> dict[tuple[str, str], RouteView]:
    """(peer address, prefix) -> what the speaker published, replaying withdrawals."""
    out: dict[tuple[str, str], RouteView] = {}
    for event in per_update(world.rs.events("routes")):
        if not isinstance(event, ReceivedRoutes):
            continue
        for prefix in event.withdrawn:
            out.pop((event.session.peer_address, prefix), None)
        for prefix in event.announced:
            out[(event.session.peer_address, prefix)] = _view(prefix, event)
    return out


def _sessions(world: World) -> list[SessionChange]:
    return [e for e in world.rs.events("sessions", 1) if isinstance(e, SessionChange)]


def test_every_session_establishes(world: World) -> None:
    for peer in (world.a, world.b, world.c, world.d, world.e, world.f, world.g, world.h):
        peer.wait_established(timeout=60)
    up = {e.session.peer_address: e for e in _sessions(world)
          if e.state == SessionState.ESTABLISHED}
    expected = {"192.0.2.2", "2001:db8:1::2", "192.0.2.3", "2001:db8:1::3", "192.0.2.4",
                "2001:db8:1::4", "192.0.2.5", "192.0.2.6", "192.0.2.7", "192.0.2.8",
                "192.0.2.9"}
    assert expected <= set(up)
    assert not up["192.0.2.5"].four_octet_as, "ExaBGP with asn4 disabled is a 2-octet peer"
    assert up["192.0.2.4"].four_octet_as and up["192.0.2.4"].session.peer_asn == 196615
    assert "ipv6-unicast" in up["2001:db8:1::2"].families


def test_active_mode_and_collisions_leave_one_session(world: World) -> None:
    for address in ("192.0.2.8", "192.0.2.9"):
        changes = [e for e in _sessions(world) if e.session.peer_address == address]
        up = [e for e in changes if e.state == SessionState.ESTABLISHED]
        down = [e for e in changes if e.previous_state == SessionState.ESTABLISHED]
        assert len(up) - len(down) == 1, f"exactly one live session with {address}"
        losers = [e for e in changes if e.notification is not None]
        assert all((n.notification.code, n.notification.subcode) == (6, 7) for n in losers), \
            "a connection may only be closed by collision resolution"


def _wait_received(world: World, peer_address: str, prefixes: list[str]
                   ) -> dict[tuple[str, str], RouteView]:
    return wait_for(lambda: (lambda got: got if all((peer_address, p) in got
                                                     for p in prefixes) else None)(
        _received(world)), 60, f"routes of {peer_address}")


def test_bird_routes_are_published_exactly_as_bird_sent_them(world: World) -> None:
    for neighbor, family in (("192.0.2.1", "ipv4"), ("2001:db8:1::1", "ipv6")):
        sent = world.a.exported_routes(neighbor)
        assert sent, f"BIRD exports nothing to {neighbor}"
        session = world.a.local_address(family)
        got = _wait_received(world, session, [r.prefix for r in sent])
        for route in sent:
            assert got[(session, route.prefix)] == route


def test_gobgp_routes_match_its_adj_out(world: World) -> None:
    for neighbor, family in (("192.0.2.1", "ipv4"), ("2001:db8:1::1", "ipv6")):
        sent = world.b.adj_out(neighbor)
        assert sent, f"GoBGP sends nothing to {neighbor}"
        session = world.b.local_address(family)
        got = _wait_received(world, session, [r.prefix for r in sent])
        for route in sent:
            assert got[(session, route.prefix)] == route


def test_exabgp_four_octet_and_two_octet_peers(world: World) -> None:
    for peer, routes in ((world.c, C_ROUTES), (world.d, D_ROUTES)):
        for route in routes:
            session = peer.local_address(route.family)
            got = _wait_received(world, session, [route.prefix])
            assert got[(session, route.prefix)] == peer.expected_view(route)
    # the 2-octet peer's 4-octet ASN survived AS_TRANS + AS4_PATH
    got = _received(world)
    assert got[("192.0.2.5", "185.53.0.0/24")].as_path == (20005, 196615)


def test_withdrawals_are_published(world: World) -> None:
    world.b.withdraw("185.51.0.0/24")
    wait_for(lambda: ("192.0.2.3", "185.51.0.0/24") not in _received(world), 30,
             "GoBGP's withdrawal")
    world.a.withdraw("2a0c:9a40::/32")
    wait_for(lambda: ("2001:db8:1::2", "2a0c:9a40::/32") not in _received(world), 30,
             "BIRD's IPv6 withdrawal")


def test_max_prefix_shutdown_with_a_real_peer(world: World) -> None:
    for route in E_ROUTES:
        world.e.announce(route)
    wait_for(lambda: [n for n in world.rs.events("sessions", 1) if isinstance(n, PeerNotice)
                      and n.kind == "max-prefix" and n.peer_address == "192.0.2.6"], 30,
             "the max-prefix notice")
    downs = [e for e in _sessions(world) if e.session.peer_address == "192.0.2.6"
             and e.state == SessionState.IDLE]
    assert downs and downs[-1].notification is not None
    assert (downs[-1].notification.code, downs[-1].notification.subcode) == (6, 1)


def test_frozen_peer_meets_the_hold_timer(world: World) -> None:
    world.f.freeze()
    try:
        down = wait_for(lambda: [e for e in _sessions(world) if e.session.peer_address ==
                                 "192.0.2.7" and e.state == SessionState.IDLE], 20,
                        "hold timer expiry")
        assert "hold timer expired" in down[-1].reason
        assert down[-1].notification is not None and down[-1].notification.code == 4
    finally:
        world.f.thaw()


def _epochs(world: World, address: str) -> list[object]:
    return [e.session.epoch for e in _sessions(world)
            if e.session.peer_address == address and e.state == SessionState.ESTABLISHED]


def test_killed_peer_is_a_closed_connection_and_comes_back_in_a_new_epoch(
        world: World) -> None:
    world.f.wait_established(timeout=60)
    before = _epochs(world, "192.0.2.7")
    world.f.kill9()
    down = wait_for(lambda: [e for e in _sessions(world) if e.session.peer_address ==
                             "192.0.2.7" and e.state == SessionState.IDLE
                             and e.session.epoch == before[-1]], 30, "the closed connection")
    assert down[-1].reason in ("connection closed by peer",) or "connection lost" in \
        down[-1].reason
    world.f.start()
    world.f.wait_established(timeout=60)
    after = wait_for(lambda: (lambda eps: eps if len(eps) > len(before) else None)(
        _epochs(world, "192.0.2.7")), 30, "a new epoch")
    assert after[-1] != before[-1]


def test_killed_speaker_leaves_no_routes_of_its_old_incarnation(world: World) -> None:
    world.rs.kill("speaker")
    world.rs.start_speaker()
    world.a.wait_established(timeout=60)
    world.c.wait_established(timeout=60)
    # One Adj-RIB-In per routes partition, as the processors keep them.
    ribs: list[AdjRibIn] = []
    markers: list[SpeakerIncarnation] = []

    def rebuilt() -> list[AdjRibIn] | None:
        ribs.clear()
        markers.clear()
        for partition in range(world.rs.partitions):
            rib = AdjRibIn()
            for event in per_update(world.rs.partition_events("routes", partition)):
                if isinstance(event, SpeakerIncarnation):
                    markers.append(event)
                rib.apply(event)
            ribs.append(rib)
        peers = {key[1] for rib in ribs for key, prefixes in rib.by_peer.items() if prefixes}
        return ribs if {"192.0.2.2", "192.0.2.4"} <= peers else None

    wait_for(rebuilt, 60, "the clients' routes from the new speaker")
    incarnations = [m.incarnation for m in markers]
    assert len(set(incarnations)) == 2
    new = incarnations[-1]
    for rib in ribs:
        for candidates in rib.routes.values():
            for route in candidates.values():
                assert route.session.epoch.incarnation == new
