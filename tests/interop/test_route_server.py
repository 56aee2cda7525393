"""ixrs as a route server, end to end (issue 6): a speaker and a worker on a namespace IXP
LAN, with real BIRD 2, GoBGP and ExaBGP clients configured through clients.yml, IPv4 and
IPv6, 4-octet ASNs and one 2-octet speaker.

What each client was told is read from the daemon itself (birdc, the gobgp CLI, ExaBGP's
event log); what ixrs did and why from its topics (verdicts, decisions, sent). One LAN and
one route server serve the whole module, so the tests run in file order and each leaves
the table in the state the next one expects (`World.live`).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from schemas.events import (
    Decision,
    ReceivedRoutes,
    SentUpdate,
    SessionChange,
    SessionState,
    Verdict,
)
from schemas.events import Route as DecidedRoute
from speaker.codec import AS_TRANS, Negotiated, Update, decode
from tests.helpers import per_update, wait_for
from tests.interop.system import IxrsOnLan
from tests.lab.base import Peer
from tests.lab.fixtures import Lab, require_tools
from tests.lab.netns import DEFAULT_PREFIX, Host, IxpLan, cleanup_stale
from tests.lab.peers import BirdPeer, ExabgpPeer, GobgpPeer, Neighbor, PeerSpec, Route
from tests.lab.spec import RouteView, family_of

ROOT = Path(__file__).resolve().parents[2]
RS_AS = 59900
TWO_OCTET = {"192.0.2.5", "2001:db8:1::5"}  # d: ExaBGP without the 4-octet AS capability

CLIENTS = """
clients:
  - asn: 20002        # a: BIRD
    ip: ["192.0.2.2", "2001:db8:1::2"]
  - asn: 262145       # b: GoBGP, 4-octet ASN
    ip: ["192.0.2.3", "2001:db8:1::3"]
  - asn: 196615       # c: ExaBGP, 4-octet ASN; also sends the routes the filters reject
    ip: ["192.0.2.4", "2001:db8:1::4"]
  - asn: 20005        # d: ExaBGP, a 2-octet speaker; its routes must be in its IRR lists
    ip: ["192.0.2.5", "2001:db8:1::5"]
    cfg:
      filtering:
        irrdb:
          enforce_origin_in_as_set: True
          enforce_prefix_in_as_set: True
  - asn: 20006        # e: BIRD, max-prefix 3 IPv4 prefixes, then shut down
    ip: "192.0.2.6"
    cfg:
      filtering:
        max_prefix:
          action: "shutdown"
          limit_ipv4: 3
  - asn: 20007        # f: BIRD, killed with kill -9
    ip: ["192.0.2.7", "2001:db8:1::7"]
  - asn: 196618       # g: BIRD, 4-octet ASN, connects late
    ip: ["192.0.2.8", "2001:db8:1::8"]
"""

# Routes every other client must receive. Public-looking prefixes and ASNs only: the
# default filters reject documentation and private ones (../shared/BGP-LAB.md).
A_ROUTES = (
    Route("185.50.0.0/24", as_path=(3333,), communities=((20002, 100),),
          large_communities=((20002, 1, 2),), med=10),
    Route("2a0c:9a40::/32", as_path=(3333,), communities=((20002, 101),), med=20),
)
B_ROUTES = (Route("185.51.0.0/24", as_path=(8283,), med=30), Route("2a0c:9a41::/32"))
C_ROUTES = (
    Route("185.52.0.0/24", as_path=(212232,), large_communities=((196615, 7, 7),)),
    Route("2a0c:9a42::/32", as_path=(212232,)),
)
# (no route with c's ASN 196615 in its path: c would drop it by loop detection, so ixrs
# does not send it there, RFC 4271 §9.1.2)
D_ROUTES = (Route("185.53.0.0/24", as_path=(212232,)), Route("2a0c:9a43::/32"))
E_ROUTES = (Route("185.54.0.0/24"), Route("185.54.1.0/24"))
F_ROUTES = (Route("185.55.0.0/24", as_path=(8283,)), Route("2a0c:9a45::/32"))

# The filter cases: (route, the client that sends it, the reasons its verdict must name).
REJECTED: tuple[tuple[Route, str, tuple[str, ...]], ...] = (
    (Route("185.60.0.0/24", next_hop="192.0.2.99"), "c", ("invalid_next_hop",)),
    (Route("2a0c:9a60::/32", next_hop="2001:db8:1::99"), "c", ("invalid_next_hop",)),
    (Route("10.99.0.0/16"), "c", ("bogon",)),
    (Route("2001:db8:ff00::/40"), "c", ("bogon",)),
    (Route("185.61.0.0/24", as_path=(20003, 3333), prepend_own_as=False), "c",
     ("invalid_left_most_asn",)),
    (Route("185.62.0.0/24", as_path=(3333,)), "c", ("rpki_invalid",)),
    (Route("2a0c:9a62::/32", as_path=(3333,)), "c", ("rpki_invalid",)),
    (Route("185.63.0.0/24", as_path=(212232,)), "d", ("prefix_not_in_as_set",)),
    (Route("185.53.1.0/24", as_path=(3333,)), "d", ("origin_not_in_as_set",)),
    (Route("185.64.0.128/25"), "c", ("invalid_prefix_length",)),
    (Route("2a0c:9a64::/49"), "c", ("invalid_prefix_length",)),
    (Route("185.65.0.0/24", as_path=(3356, 3333)), "c", ("transit_free_asn_in_as_path",)),
)

VRPS = {"roas": [
    # c's 185.52.0.0/24 is RPKI valid; the two *.62 routes of origin 3333 are invalid.
    {"asn": "AS212232", "prefix": "185.52.0.0/24", "maxLength": 24, "ta": "ripe"},
    {"asn": "AS212232", "prefix": "185.62.0.0/24", "maxLength": 24, "ta": "ripe"},
    {"asn": "AS212232", "prefix": "2a0c:9a62::/32", "maxLength": 32, "ta": "ripe"},
]}
IRR = {  # bgpq4 -j outputs for AS20005 (d)
    "AS20005.v4.json": {"NN": [{"prefix": "185.53.0.0/22", "exact": False,
                                "greater-equal": 24, "less-equal": 24}]},
    "AS20005.v6.json": {"NN": [{"prefix": "2a0c:9a43::/32", "exact": True}]},
    "AS20005.asns.json": {"NN": [212232]},
}


@dataclass
class World:
    rs: IxrsOnLan
    lab: Lab
    a: BirdPeer
    b: GobgpPeer
    c: ExabgpPeer
    d: ExabgpPeer
    e: BirdPeer
    f: BirdPeer
    g_host: Host
    g: BirdPeer | None = None
    e_shut: bool = False  # e was shut down by max-prefix
    # prefix -> (the client that announces it, its route): what every other client holds
    live: dict[str, tuple[Peer, Route]] = field(default_factory=dict)

    def clients(self) -> list[Peer]:
        """The clients whose sessions are up (and whose views the tests compare)."""
        return [p for p in (self.a, self.b, self.c, self.d, self.e, self.f, self.g)
                if p is not None and p.running() and not (p is self.e and self.e_shut)]


class BirdNextHopSelf(BirdPeer):
    """A BIRD whose routes go with `next hop self`: on a direct IPv6 session BIRD then
    sends its global and its link-local address (RFC 2545 §3)."""

    def _export_branch(self, route: Route) -> str:
        branch = super()._export_branch(route)
        return branch.replace(f"    bgp_next_hop = {self.next_hop(route)};\n", "")


def _sessions(rs_host: Host, v6: bool = True, **kw: object) -> tuple[Neighbor, ...]:
    v4 = Neighbor(rs_host.v4 or "", RS_AS, **kw)  # type: ignore[arg-type]
    return (v4, Neighbor(rs_host.v6 or "", RS_AS, **kw)) if v6 else (v4,)  # type: ignore[arg-type]


def _rejected_of(name: str) -> tuple[Route, ...]:
    return tuple(route for route, who, _ in REJECTED if who == name)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_tools("bird", "gobgp", "exabgp")
    workdir = tmp_path_factory.mktemp("routeserver")
    clients = workdir / "clients.yml"
    clients.write_text(CLIENTS)
    vrps = workdir / "vrps.json"
    vrps.write_text(json.dumps(VRPS))
    irr = workdir / "irr"
    irr.mkdir()
    for name, content in IRR.items():
        (irr / name).write_text(json.dumps(content))
    cleanup_stale(DEFAULT_PREFIX)
    with IxpLan(DEFAULT_PREFIX) as lan, Lab(lan, workdir) as lab:
        rs_host = lab.host("rs")
        rs = IxrsOnLan(rs_host, workdir, ROOT / "examples" / "general.yml", clients)
        try:
            rs.start_broker()
            rs.start_speaker()
            rs.start_worker()
            # The data sets go in before any route: a route RPKI invalid or not in IRR is
            # then never accepted, not even for a moment.
            for args in (("load-rpki", str(vrps)), ("load-irr", str(irr))):
                done = rs.command(*args)
                assert done.returncode == 0, done.stderr
            hosts = [lab.host(name) for name in "abcdefg"]  # .2 to .8, as in CLIENTS
            world = World(
                rs, lab,
                lab.start(BirdNextHopSelf(hosts[0], PeerSpec(20002, _sessions(rs_host),
                                                             A_ROUTES), workdir / "a-bird")),
                lab.gobgp(hosts[1], PeerSpec(262145, _sessions(rs_host), B_ROUTES)),
                lab.exabgp(hosts[2], PeerSpec(196615, _sessions(rs_host),
                                              C_ROUTES + _rejected_of("c"))),
                lab.exabgp(hosts[3], PeerSpec(20005, _sessions(rs_host),
                                              D_ROUTES + _rejected_of("d")),
                           asn4=False, log_packets=True),
                lab.bird(hosts[4], PeerSpec(20006, _sessions(rs_host, v6=False), E_ROUTES)),
                lab.bird(hosts[5], PeerSpec(20007, _sessions(rs_host), F_ROUTES)),
                hosts[6],
            )
            for peer, routes in ((world.a, A_ROUTES), (world.b, B_ROUTES),
                                 (world.c, C_ROUTES), (world.d, D_ROUTES),
                                 (world.e, E_ROUTES), (world.f, F_ROUTES)):
                world.live.update({r.prefix: (peer, r) for r in routes})
            yield world
        finally:
            rs.close()


# --- reading ixrs's topics -------------------------------------------------------------


def _negotiated(address: str) -> Negotiated:
    return Negotiated(four_octet_as=address not in TWO_OCTET, extended_message=True)


def _sent(world: World, address: str | None = None) -> list[SentUpdate]:
    return [e for e in world.rs.events("sent") if isinstance(e, SentUpdate)
            and (address is None or e.session.peer_address == address)]


def _announced(record: SentUpdate) -> list[str]:
    message = decode(record.raw, _negotiated(record.session.peer_address))
    assert isinstance(message, Update)
    return [p for _attrs, prefixes in message.announced() for p in prefixes]


def _ever_sent(world: World) -> dict[str, set[str]]:
    """peer address -> every prefix any UPDATE sent to it announced."""
    out: dict[str, set[str]] = {}
    for record in _sent(world):
        if record.kind == "update":
            out.setdefault(record.session.peer_address, set()).update(_announced(record))
    return out


def _verdicts(world: World) -> dict[str, list[tuple[bool, list[str]]]]:
    """prefix -> every judgement of it, in log order."""
    out: dict[str, list[tuple[bool, list[str]]]] = {}
    for verdict in world.rs.events("verdicts"):
        if isinstance(verdict, Verdict):
            for group in verdict.groups:
                for prefix in group.prefixes:
                    out.setdefault(prefix, []).append(
                        (group.accepted, [r.name for r in group.reasons]))
    return out


def _received_from(world: World, address: str) -> dict[str, ReceivedRoutes]:
    """prefix -> the last ReceivedRoutes of the session from `address` announcing it."""
    out: dict[str, ReceivedRoutes] = {}
    for event in per_update(world.rs.events("routes")):
        if isinstance(event, ReceivedRoutes) and event.session.peer_address == address:
            out.update({p: event for p in event.announced})
    return out


# --- reading the daemons ---------------------------------------------------------------


def _receivers(world: World, origin: Peer, family: str) -> list[Peer]:
    """Every client with a session of `family` up, except the route's own."""
    return [p for p in world.clients() if p is not origin
            and any(family_of(n.address) == family for n in p.spec.neighbors)]


def _expected(origin: Peer, route: Route) -> RouteView:
    return origin.expected_view(route)


def _wait_table(world: World, timeout: float = 60.0) -> None:
    """Every live route at every other client, exactly as its origin sent it."""
    for prefix, (origin, route) in world.live.items():
        for peer in _receivers(world, origin, route.family):
            got = peer.wait_route(prefix, timeout=timeout)
            assert got == _expected(origin, route), f"{prefix} at {peer.name}"


def _link_local(host: Host) -> str:
    out = host.run(["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]).stdout
    match = re.search(r"inet6 (fe80::[0-9a-f:]+)/", out)
    assert match, out
    return match.group(1)


def _bird_next_hops(peer: BirdPeer, prefix: str) -> list[str]:
    """BGP.next_hop of the route for `prefix` at a BIRD: the global and, if sent, the
    link-local address."""
    out = peer.birdc("show", "route", "for", prefix, "all")
    match = re.search(r"BGP\.next_hop:\s*(.+)", out)
    assert match, out
    return match.group(1).split()


def _walk_attributes(body: bytes) -> dict[int, bytes]:
    """The path attributes of an UPDATE body (after the 19-byte header), by type code."""
    withdrawn = struct.unpack_from("!H", body, 0)[0]
    offset = 2 + withdrawn
    length = struct.unpack_from("!H", body, offset)[0]
    offset += 2
    end = offset + length
    attrs = {}
    while offset < end:
        flags, code = body[offset], body[offset + 1]
        if flags & 0x10:
            size = struct.unpack_from("!H", body, offset + 2)[0]
            offset += 4
        else:
            size = body[offset + 2]
            offset += 3
        attrs[code] = body[offset:offset + size]
        offset += size
    return attrs


# --- the tests -------------------------------------------------------------------------


def test_every_client_establishes(world: World) -> None:
    for peer in (world.a, world.b, world.c, world.d, world.e, world.f):
        peer.wait_established(timeout=60)
    up = {e.session.peer_address: e for e in world.rs.events("sessions", 1)
          if isinstance(e, SessionChange) and e.state == SessionState.ESTABLISHED}
    assert not up["192.0.2.5"].four_octet_as and not up["2001:db8:1::5"].four_octet_as
    assert up["192.0.2.3"].four_octet_as and up["192.0.2.3"].session.peer_asn == 262145


def test_routes_reach_every_other_client_unchanged(world: World) -> None:
    """NEXT_HOP, AS_PATH (no route-server ASN), MED and communities as the origin sent
    them, at BIRD, GoBGP, ExaBGP and the 2-octet ExaBGP, IPv4 and IPv6."""
    _wait_table(world)


def test_ipv6_link_local_next_hop_is_passed_on(world: World) -> None:
    """BIRD sends a global and a link-local next hop on the LAN (RFC 2545); both reach a
    BIRD client unchanged. GoBGP sends the global one only, and nothing is added."""
    prefix = A_ROUTES[1].prefix
    sent = wait_for(lambda: _received_from(world, "2001:db8:1::2").get(prefix), 30,
                    "a's IPv6 route in the routes topic")
    assert sent.attributes is not None
    link_local = _link_local(world.a.host)
    assert sent.attributes.next_hop_link_local == link_local, "BIRD sends its link-local"
    assert _bird_next_hops(world.f, prefix) == ["2001:db8:1::2", link_local]
    # ExaBGP lists the route under both addresses of the next hop.
    hops = {hop for e in world.c.events() if e.get("type") == "update"
            for by_hop in e["neighbor"].get("message", {}).get("update", {})
            .get("announce", {}).values()
            for hop, nlris in by_hop.items() if {"nlri": prefix} in nlris}
    assert hops == {"2001:db8:1::2", link_local}
    # What was sent to f, as recorded.
    to_f = [r for r in _sent(world, "2001:db8:1::7") if prefix in _announced(r)]
    assert to_f
    message = decode(to_f[-1].raw, _negotiated("2001:db8:1::7"))
    assert isinstance(message, Update) and message.mp_reach is not None
    assert (message.mp_reach.next_hop, message.mp_reach.next_hop_link_local) == (
        "2001:db8:1::2", link_local)
    b_prefix = B_ROUTES[1].prefix
    world.f.wait_route(b_prefix)
    b_sent = _received_from(world, "2001:db8:1::3")[b_prefix].attributes
    assert b_sent is not None and b_sent.next_hop_link_local is None
    assert _bird_next_hops(world.f, b_prefix) == ["2001:db8:1::3"]


def test_two_octet_client_gets_as_trans_and_as4_path(world: World) -> None:
    """To d, a path with 4-octet ASNs is AS_TRANS in AS_PATH plus the real path in
    AS4_PATH (RFC 6793); ExaBGP merges them back into the path c sent."""
    route = C_ROUTES[0]
    assert world.d.wait_route(route.prefix).as_path == (196615, 212232)
    bodies = [bytes.fromhex(e["neighbor"]["message"]["body"].removeprefix("0x"))
              for e in world.d.events()
              if e.get("type") == "update" and e["neighbor"].get("direction") == "receive"
              and "body" in e["neighbor"].get("message", {})]
    as_trans = struct.pack("!BBHH", 2, 2, AS_TRANS, AS_TRANS)  # AS_SEQUENCE of 2 x 23456
    as4 = struct.pack("!BBII", 2, 2, 196615, 212232)
    assert any(a.get(2) == as_trans and a.get(17) == as4
               for a in map(_walk_attributes, bodies)), "no UPDATE with AS_TRANS + AS4_PATH"
    # A path of 2-octet ASNs only goes as it is, without AS4_PATH.
    a_route = A_ROUTES[0]
    assert world.d.wait_route(a_route.prefix).as_path == (20002, 3333)
    plain = struct.pack("!BBHH", 2, 2, 20002, 3333)
    assert any(a.get(2) == plain and 17 not in a for a in map(_walk_attributes, bodies))
    # And the 2-octet client's own route, with a 4-octet origin, reaches the others whole.
    assert world.b.wait_route(D_ROUTES[0].prefix).as_path == (20005, 212232)


def test_no_client_is_sent_its_own_routes(world: World) -> None:
    _wait_table(world)
    sent = _ever_sent(world)
    for prefix, (origin, _route) in world.live.items():
        for neighbor in origin.spec.neighbors:
            address = origin.session_address(neighbor)
            assert prefix not in sent.get(address, set()), f"{prefix} sent back to {address}"
        assert origin.route(prefix) is None


def test_each_filter_case_is_rejected_with_its_reasons(world: World) -> None:
    expected = {route.prefix: list(reasons) for route, _who, reasons in REJECTED}

    def judged() -> dict[str, list[tuple[bool, list[str]]]] | None:
        got = _verdicts(world)
        return got if set(expected) <= set(got) else None

    verdicts = wait_for(judged, 60, "a verdict for every filter case")
    for prefix, reasons in expected.items():
        assert verdicts[prefix] == [(False, reasons)] * len(verdicts[prefix]), prefix
    # ... and nothing else was rejected (d's IRR-covered routes, c's RPKI-valid one):
    for prefix in world.live:
        assert all(accepted for accepted, _ in verdicts.get(prefix, [(True, [])])), prefix
    _wait_table(world)  # the accepted routes of the same clients have arrived everywhere
    for peer in world.clients():
        held = {r.prefix for r in peer.received_routes()}
        assert not held & set(expected), f"{peer.name} holds {held & set(expected)}"
    leaked = {address: prefixes & set(expected)
              for address, prefixes in _ever_sent(world).items() if prefixes & set(expected)}
    assert not leaked, f"filtered routes were sent: {leaked}"
    decided = [d for d in world.rs.events("decisions")
               if isinstance(d, Decision) and d.prefix in expected and d.best is not None]
    assert not decided


def test_late_client_gets_the_full_table_then_end_of_rib(world: World) -> None:
    world.g = world.lab.bird(world.g_host, PeerSpec(196618, _sessions(world.lab.lan.hosts["rs"])))
    world.g.wait_established(timeout=60)
    for prefix, (origin, route) in world.live.items():
        assert world.g.wait_route(prefix, timeout=30) == _expected(origin, route)
    for address, family in (("192.0.2.8", "ipv4"), ("2001:db8:1::8", "ipv6")):
        table = {p for p, (_o, r) in world.live.items() if r.family == family}

        def until_eor(address: str = address) -> list[SentUpdate] | None:
            records = _sent(world, address)
            kinds = [r.kind for r in records]
            return records[:kinds.index("end-of-rib") + 1] if "end-of-rib" in kinds else None

        records = wait_for(until_eor, 30, f"End-of-RIB to {address}")
        assert [r.kind for r in records[:-1]] == ["update"] * (len(records) - 1)
        assert {p for r in records[:-1] for p in _announced(r)} == table, address


def test_route_refresh_gets_the_table_again(world: World) -> None:
    """`birdc reload in` sends a ROUTE-REFRESH; BIRD and ixrs both offer enhanced route
    refresh (RFC 7313), so the whole table comes again between a BoRR and an EoRR."""
    g = world.g
    assert g is not None
    for address, protocol in (("192.0.2.8", "nb_192_0_2_1"),
                              ("2001:db8:1::8", "nb_2001_db8_1__1")):
        table = {p for p, (_o, r) in world.live.items() if r.family == family_of(address)}
        before = len(_sent(world, address))
        g.birdc("reload", "in", protocol)

        def again(address: str = address, before: int = before) -> list[SentUpdate] | None:
            records = _sent(world, address)[before:]
            return records if "eorr" in [r.kind for r in records] else None

        records = wait_for(again, 30, f"the table again to {address}, up to the EoRR")
        kinds = [r.kind for r in records]
        end = kinds.index("eorr")
        assert kinds[0] == "borr" and set(kinds[1:end]) == {"update"}, kinds
        assert {p for r in records[1:end] for p in _announced(r)} == table, address
        assert all(r.caused_by for r in records[1:end]), "every UPDATE names its decisions"
    _wait_table(world)


def test_max_prefix_shuts_the_client_down_and_its_routes_leave(world: World) -> None:
    e_more = (Route("185.54.2.0/24"), Route("185.54.3.0/24"))  # 4 > the limit of 3
    world.e.announce(e_more[0])  # 3: still at the limit
    for peer in _receivers(world, world.e, "ipv4"):
        peer.wait_route(e_more[0].prefix)
    world.e.announce(e_more[1])
    world.e.wait_down(timeout=30)
    world.e_shut = True
    status = world.e.birdc("show", "protocols", "all", "nb_192_0_2_1")
    assert "Maximum number of prefixes reached" in status, status
    for route in (*E_ROUTES, *e_more):
        world.live.pop(route.prefix, None)
        for peer in world.clients():
            peer.wait_no_route(route.prefix, timeout=30)
    # "shutdown" keeps the client down: it is refused when it tries again.
    downs = [e for e in world.rs.events("sessions", 1) if isinstance(e, SessionChange)
             and e.session.peer_address == "192.0.2.6" and e.state == SessionState.IDLE]
    assert downs and downs[-1].notification is not None
    assert (downs[-1].notification.code, downs[-1].notification.subcode) == (6, 1)
    ups = len([e for e in world.rs.events("sessions", 1) if isinstance(e, SessionChange)
               and e.session.peer_address == "192.0.2.6"
               and e.state == SessionState.ESTABLISHED])

    def next_attempt() -> str | None:  # BIRD tries again by itself after its error wait
        if "Connection rejected" in world.e.birdc("show", "protocols", "all", "nb_192_0_2_1"):
            return "refused"
        again = [e for e in world.rs.events("sessions", 1) if isinstance(e, SessionChange)
                 and e.session.peer_address == "192.0.2.6"
                 and e.state == SessionState.ESTABLISHED]
        return "accepted again" if len(again) > ups else None

    assert wait_for(next_attempt, 30, "e to try again") == "refused"
    # The prefix over the limit was never passed on to anyone.
    leaked = {a for a, prefixes in _ever_sent(world).items() if e_more[1].prefix in prefixes}
    assert not leaked, f"{e_more[1].prefix}, over the limit, was sent to {leaked}"
    assert not [d for d in world.rs.events("decisions") if isinstance(d, Decision)
                and d.prefix == e_more[1].prefix and d.best is not None]
    _wait_table(world)


def test_withdrawals_leave_every_other_client(world: World) -> None:
    for origin, route in ((world.a, A_ROUTES[0]), (world.b, B_ROUTES[1]),
                          (world.c, C_ROUTES[1])):
        origin.withdraw(route.prefix)
        world.live.pop(route.prefix)
    for route in (A_ROUTES[0], B_ROUTES[1], C_ROUTES[1]):
        for peer in world.clients():
            peer.wait_no_route(route.prefix, timeout=30)
    _wait_table(world)


def test_killed_client_routes_leave_every_other_client(world: World) -> None:
    world.f.kill9()
    for route in F_ROUTES:
        world.live.pop(route.prefix)
    for route in F_ROUTES:
        for peer in world.clients():
            peer.wait_no_route(route.prefix, timeout=30)
    _wait_table(world)
    # what's left of the decisions names no route of f
    final: dict[str, DecidedRoute | None] = {}
    for d in world.rs.events("decisions"):
        if isinstance(d, Decision):
            final[d.prefix] = d.best
    assert all(final.get(r.prefix) is None for r in F_ROUTES)
