"""The lab harness proven on real daemons: a BIRD hub with BIRD, GoBGP and ExaBGP clients."""

from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.lab.fixtures import Lab, lab_skip_reason
from tests.lab.netns import DEFAULT_PREFIX, Host, IxpLan, LoopbackLan, cleanup_stale, run
from tests.lab.peers import BirdPeer, ExabgpPeer, GobgpPeer, Neighbor, Peer, PeerSpec, Route
from tests.lab.raw import NOTIFICATION, UPDATE, RawSession, header

pytestmark = [pytest.mark.netns, pytest.mark.slow]

HUB_ASN = 59900

BIRD_V4 = Route(
    "185.50.0.0/24",
    as_path=(20002,),
    communities=((20002, 100), (59900, 20003)),
    large_communities=((20002, 1, 2),),
    med=10,
)
BIRD_V6 = Route("2a0c:9a40::/32", large_communities=((20002, 0, 6),), med=0, origin="incomplete")
# A third-party next hop on the LAN, as route-server clients send for other routers.
GOBGP_V4 = Route(
    "185.51.0.0/24",
    next_hop="192.0.2.103",
    as_path=(12654,),
    communities=((20003, 1),),
    large_communities=((20003, 5, 6),),
    med=7,
    origin="egp",
)
GOBGP_V6 = Route("2a0c:9a41::/32", communities=((20003, 6),))
EXABGP_V4 = Route(
    "185.52.0.0/24", communities=((20004, 1),), large_communities=((196615, 1, 1),), med=30
)
EXABGP_V6 = Route("2a0c:9a42::/32", med=5)
TWO_OCTET_V4 = Route("185.53.0.0/24", communities=((20005, 1),))


@dataclass(frozen=True)
class World:
    hub_host: Host
    hub: BirdPeer
    bird: BirdPeer
    gobgp: GobgpPeer
    exabgp: ExabgpPeer
    two_octet: ExabgpPeer

    @property
    def clients(self) -> dict[str, Peer]:
        return {"bird": self.bird, "gobgp": self.gobgp, "exabgp": self.exabgp}


def _hub_neighbors(host: Host, asn: int, v6: bool = True) -> tuple[Neighbor, ...]:
    # The hub connects too: GoBGP waits 5-10 s before its own first connect.
    addresses = [host.v4, host.v6] if v6 else [host.v4]
    return tuple(Neighbor(a, asn, rs_client=True) for a in addresses if a)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    reason = lab_skip_reason("bird", "gobgp", "exabgp")
    if reason:
        pytest.skip(reason)
    cleanup_stale(DEFAULT_PREFIX)
    with IxpLan(DEFAULT_PREFIX) as lan, Lab(lan, tmp_path_factory.mktemp("lab")) as lab:
        hub_host = lab.host("hub")
        hosts = {name: lab.host(name) for name in ("bird", "gobgp", "exabgp", "exa2")}
        hub = lab.bird(
            hub_host,
            PeerSpec(
                HUB_ASN,
                _hub_neighbors(hosts["bird"], 20002)
                + _hub_neighbors(hosts["gobgp"], 20003)
                + _hub_neighbors(hosts["exabgp"], 196615)
                + _hub_neighbors(hosts["exa2"], 20005, v6=False),
            ),
        )
        to_hub = (Neighbor(hub_host.v4 or "", HUB_ASN), Neighbor(hub_host.v6 or "", HUB_ASN))
        world = World(
            hub_host=hub_host,
            hub=hub,
            bird=lab.bird(hosts["bird"], PeerSpec(20002, to_hub, (BIRD_V4, BIRD_V6))),
            gobgp=lab.gobgp(hosts["gobgp"], PeerSpec(20003, to_hub, (GOBGP_V4, GOBGP_V6))),
            exabgp=lab.exabgp(
                hosts["exabgp"], PeerSpec(196615, to_hub, (EXABGP_V4, EXABGP_V6)), log_packets=True
            ),
            two_octet=lab.exabgp(
                hosts["exa2"],
                PeerSpec(20005, to_hub[:1], (TWO_OCTET_V4,)),
                asn4=False,
                log_packets=True,
            ),
        )
        for peer in (*world.clients.values(), world.two_octet):
            peer.wait_established(timeout=20)
        yield world


def test_every_client_session_is_established_over_ipv4_and_ipv6(world: World) -> None:
    for name, peer in world.clients.items():
        assert peer.session_states() == {
            world.hub_host.v4: True,
            world.hub_host.v6: True,
        }, name
    assert world.hub.established()


ANNOUNCED = [
    ("bird", BIRD_V4),
    ("bird", BIRD_V6),
    ("gobgp", GOBGP_V4),
    ("gobgp", GOBGP_V6),
    ("exabgp", EXABGP_V4),
    ("exabgp", EXABGP_V6),
]


@pytest.mark.parametrize(("announcer", "route"), ANNOUNCED, ids=[r.prefix for _, r in ANNOUNCED])
def test_route_reaches_the_other_clients_unchanged(
    world: World, announcer: str, route: Route
) -> None:
    origin = world.clients[announcer]
    expected = origin.expected_view(route)
    for name, peer in world.clients.items():
        if name != announcer:
            assert peer.wait_route(route.prefix) == expected, f"{announcer} -> {name}"


@pytest.mark.parametrize("announcer", ["bird", "gobgp", "exabgp"])
def test_withdrawal_disappears_everywhere(world: World, announcer: str) -> None:
    origin = world.clients[announcer]
    octet = {"bird": 60, "gobgp": 61, "exabgp": 62}[announcer]
    route = Route(f"185.{octet}.0.0/24", communities=((20002, 9),), med=1)
    others = [p for name, p in world.clients.items() if name != announcer]

    origin.announce(route)
    for peer in others:
        assert peer.wait_route(route.prefix) == origin.expected_view(route)
    origin.withdraw(route.prefix)
    for peer in others:
        peer.wait_no_route(route.prefix)
    assert world.hub.route(route.prefix) is None


def test_outgoing_views_match_what_the_neighbour_receives(world: World) -> None:
    hub_v4 = world.hub_host.v4
    assert world.bird.expected_view(BIRD_V4) in world.bird.exported_routes(hub_v4)
    assert world.gobgp.expected_view(GOBGP_V4) in world.gobgp.adj_out(hub_v4)
    # The hub (rs client) passes NEXT_HOP, AS_PATH and MED through untouched.
    assert world.gobgp.expected_view(GOBGP_V4) in world.hub.exported_routes(world.bird.host.v4)


def test_two_octet_exabgp_peer(world: World) -> None:
    peer = world.two_octet
    assert peer.established(world.hub_host.v4)
    status = world.hub.birdc("show", "protocols", "all", "nb_192_0_2_5")
    neighbor_caps = status.split("Neighbor capabilities")[1].split("Session:")[0]
    assert "4-octet AS numbers" not in neighbor_caps
    assert world.bird.wait_route(TWO_OCTET_V4.prefix) == peer.expected_view(TWO_OCTET_V4)
    assert peer.wait_route(BIRD_V4.prefix) == world.bird.expected_view(BIRD_V4)

    # ExaBGP merges AS4_PATH back into the path it reports; the wire has AS_TRANS.
    assert peer.wait_route(EXABGP_V4.prefix).as_path == (196615,)
    bodies = [
        e["neighbor"]["message"]["body"]
        for e in peer.events()
        if e.get("type") == "update" and "body" in e["neighbor"].get("message", {})
    ]
    as_path_as_trans = "40020402015BA0"  # AS_PATH: one AS_SEQUENCE of 2-octet 23456
    as4_path = "C01106020100030007"  # AS4_PATH: one AS_SEQUENCE of 196615
    assert any(as_path_as_trans in b and as4_path in b for b in bodies), bodies


def test_exabgp_sends_raw_attributes_and_logs_packets(world: World) -> None:
    unknown = Route("185.52.99.0/24", attributes=((0x63, 0xC0, b"\x01\x02"),))
    world.exabgp.announce(unknown)
    world.bird.wait_route(unknown.prefix)
    assert "BGP.63 [t]: 01 02" in world.bird.birdc("show", "route", "all", unknown.prefix)

    # COMMUNITIES (8) flagged well-known: malformed, BIRD treats it as withdraw (RFC 7606).
    bad_flags = Route("185.52.98.0/24", attributes=((0x08, 0x40, b"\x4e\x24\x00\x01"),))
    world.exabgp.announce(bad_flags)
    wait_for(
        lambda: f"Invalid route {bad_flags.prefix} withdrawn" in world.hub.log(),
        10,
        "the hub to reject the malformed UPDATE",
    )
    assert world.exabgp.established(world.hub_host.v4)

    sent = [
        e
        for e in world.exabgp.events()
        if e.get("type") == "update" and e["neighbor"].get("direction") == "send"
    ]
    assert any(e["neighbor"]["message"]["header"].startswith("0xFFFF") for e in sent)
    world.exabgp.withdraw(unknown.prefix)
    world.exabgp.withdraw(bad_flags.prefix)
    world.bird.wait_no_route(unknown.prefix)


def test_freeze_expires_the_hold_timer_and_kill9_drops_the_session(lab: Lab) -> None:
    hub_host, client_host = lab.host("hub"), lab.host("client")
    hub = lab.bird(hub_host, PeerSpec(HUB_ASN, (Neighbor(client_host.v4 or "", 20002),)))
    route = Route("185.50.7.0/24")
    client = lab.bird(
        client_host,
        PeerSpec(20002, (Neighbor(hub_host.v4 or "", HUB_ASN, hold_time=3),), (route,)),
    )
    client.wait_established()
    hub.wait_route(route.prefix)
    # Signals go to the daemon itself: `ip netns exec` and setpriv exec, they do not fork.
    assert Path(f"/proc/{client.daemon.pid}/comm").read_text().strip() == "bird"

    client.freeze()
    hub.wait_down(timeout=10)
    assert "Hold timer expired" in hub.birdc("show", "protocols", "all")
    client.thaw()
    client.wait_established(timeout=15)
    hub.wait_established(timeout=15)

    client.kill9()
    assert not client.running()
    hub.wait_down(timeout=10)
    hub.wait_no_route(route.prefix)
    client.start()
    client.wait_established(timeout=15)
    hub.wait_route(route.prefix)

    client.restart()
    client.wait_established(timeout=15)
    assert hub.wait_route(route.prefix) == client.expected_view(route)

    client.freeze()
    client.stop()  # a frozen daemon is thawed so that SIGTERM can end it
    assert not client.running()


def test_raw_session_sends_bytes_no_daemon_would(lab: Lab) -> None:
    hub_host, raw_host = lab.host("hub"), lab.host("raw")
    v4 = raw_host.v4 or ""
    hub = lab.bird(hub_host, PeerSpec(HUB_ASN, (Neighbor(v4, 20002, passive=True),)))
    with RawSession.connect(raw_host, hub_host.v4 or "") as session:
        their_open = session.open(asn=20002, router_id=v4)
        assert struct.unpack("!H", their_open[1:3]) == (HUB_ASN,)
        hub.wait_established()
        # ORIGIN claims 5 bytes where the list holds 1: RFC 7606 treat-as-withdraw, no reset.
        attributes = bytes.fromhex("40010500")
        body = struct.pack("!HH", 0, len(attributes)) + attributes + bytes.fromhex("18b93207")
        session.send(header(UPDATE, body))
        wait_for(lambda: "Malformed attribute list" in hub.log(), 10, "BIRD to see the UPDATE")
        assert hub.established()
        # A broken marker is a header error: NOTIFICATION 1/1 and the session ends.
        session.send(b"\x00" * 16 + header(UPDATE, body)[16:])
        notification = session.receive_until(NOTIFICATION)  # after BIRD's End-of-RIB
    assert notification[:2] == bytes([1, 1])
    hub.wait_down()


def test_loopback_mode_with_multihop(loopback_lan: LoopbackLan, tmp_path: Path) -> None:
    reason = lab_skip_reason("bird", "gobgp", "exabgp", netns=False)
    if reason:
        pytest.skip(reason)
    with Lab(loopback_lan, tmp_path) as lab:
        hub_host = lab.host("hub")
        hosts = [lab.host(name) for name in ("bird", "gobgp", "exabgp")]
        asns = [20002, 20003, 196615]
        hub = lab.bird(
            hub_host,
            PeerSpec(
                HUB_ASN,
                tuple(
                    Neighbor(h.v4 or "", asn, rs_client=True)
                    for h, asn in zip(hosts, asns, strict=True)
                ),
            ),
        )
        to_hub = (Neighbor(hub_host.v4 or "", HUB_ASN),)
        # GoBGP treats a 127/8 NEXT_HOP as invalid (treat-as-withdraw), so the routes name a
        # documentation address: only an attribute value, no packet is ever sent to it.
        routes = [Route(f"185.7{i}.0.0/24", next_hop=f"192.0.2.{10 + i}", med=i) for i in range(3)]
        peers: list[Peer] = [
            lab.bird(hosts[0], PeerSpec(asns[0], to_hub, (routes[0],))),
            lab.gobgp(hosts[1], PeerSpec(asns[1], to_hub, (routes[1],))),
            lab.exabgp(hosts[2], PeerSpec(asns[2], to_hub, (routes[2],))),
        ]
        assert hub.host.needs_multihop
        for i, receiver in enumerate(peers):
            receiver.wait_established()
            for j, sender in enumerate(peers):
                if i != j:
                    assert receiver.wait_route(routes[j].prefix) == sender.expected_view(routes[j])


def _listening(host: Host, port: int) -> bool:
    return f":{port}" in host.run(["ss", "-Hltn"]).stdout


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_tcp_between_two_namespaces(ixp_lan: IxpLan, family: str) -> None:
    a, b = ixp_lan.add_host("a"), ixp_lan.add_host("b")
    address = b.address(family)
    af = "AF_INET6" if family == "ipv6" else "AF_INET"
    server = b.popen(
        [
            sys.executable,
            "-c",
            f"import socket; s = socket.socket(socket.{af}); s.bind(('{address}', 8179));"
            "s.listen(); c, _ = s.accept(); c.sendall(c.recv(16)[::-1])",
        ]
    )
    try:
        wait_for(lambda: _listening(b, 8179), 5, "the echo server to listen")
        client = a.run(
            [
                sys.executable,
                "-c",
                f"import socket; c = socket.create_connection(('{address}', 8179), timeout=5);"
                "c.sendall(b'ixrs'); print(c.recv(16).decode())",
            ],
            timeout=10,
        )
        assert client.stdout.strip() == "srxi"
        server.wait(5)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _our_namespaces() -> set[str]:
    out = run(["ip", "netns", "list"]).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith(DEFAULT_PREFIX)}


def test_lans_get_unique_names_and_are_removed() -> None:
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    with IxpLan() as one, IxpLan() as two:
        one.add_host("a")
        two.add_host("a")
        assert one.run_id != two.run_id
        runs = (one.run_id, two.run_id)
        created = {ns for ns in _our_namespaces() if ns.startswith(runs)}
        assert len(created) == 4  # an ixp and a host namespace each
    assert not {ns for ns in _our_namespaces() if ns.startswith(runs)}

    # A run that died: its PID no longer exists, so its namespaces are stale.
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = f"{DEFAULT_PREFIX}-{dead.pid}-abcd-ixp"
    run(["ip", "netns", "add", stale])
    with IxpLan() as alive:
        assert stale in cleanup_stale()
        assert f"{alive.run_id}-ixp" in _our_namespaces()
    assert stale not in _our_namespaces()
