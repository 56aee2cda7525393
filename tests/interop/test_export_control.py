"""Export control end to end (issue 6): real BIRD 2, GoBGP and ExaBGP clients on the namespace
IXP LAN, a speaker and a worker, general.yml's control communities (examples/general.yml,
rs_as 59900) in their standard and large forms, IPv4 and IPv6.

Clients: A BIRD AS20002, B GoBGP AS20003, C ExaBGP AS196615 (4-octet; 16bit_mapped_asn
64700), D BIRD AS20005, all dual-stack; E ExaBGP AS20006, a 2-octet speaker, IPv4 only.
PLAN and HIDING say who announces what and who must receive it with how many prepends.

Every check compares each client's whole table, read at the daemon, with the table the plan
calls for: which routes, which next hop, AS_PATH and communities (control ones scrubbed).
A table is only taken as final once it has settled: `settle` announces probe routes into
every routes partition after everything else, and each partition's decisions are taken and
sent in log order, so once every client holds exactly the expected table, probes included,
no decision before them is still on its way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from ixrs.topics import partition_for
from tests.helpers import wait_for
from tests.interop.system import IxrsOnLan
from tests.lab.fixtures import Lab, require_tools
from tests.lab.netns import DEFAULT_PREFIX, IxpLan, cleanup_stale
from tests.lab.peers import BirdPeer, ExabgpPeer, GobgpPeer, Neighbor, Peer, PeerSpec, Route
from tests.lab.spec import RouteView

ROOT = Path(__file__).resolve().parents[2]
RS = 59900
A_AS, B_AS, C_AS, D_AS, E_AS = 20002, 20003, 196615, 20005, 20006
C_MAPPED = 64700  # C's 16bit_mapped_asn: how standard communities name the 4-octet client
PARTITIONS = 4
CONVERGE = 120.0  # deadline for a table to reach what it should be

CLIENTS = f"""
clients:
  - asn: {A_AS}
    ip: ["192.0.2.2", "2001:db8:1::2"]
  - asn: {B_AS}
    ip: ["192.0.2.3", "2001:db8:1::3"]
    cfg:
      passive: False  # GoBGP waits 5-10 s before its first connect: the route server calls
  - asn: {C_AS}
    ip: ["192.0.2.4", "2001:db8:1::4"]
    16bit_mapped_asn: {C_MAPPED}
  - asn: {D_AS}
    ip: ["192.0.2.5", "2001:db8:1::5"]
  - asn: {E_AS}
    ip: "192.0.2.6"
"""

CLIENT_NAMES = ("a", "b", "c", "d", "e")


def _r(prefix: str, path: tuple[int, ...] = (3333,), std: tuple[tuple[int, int], ...] = (),
       lrg: tuple[tuple[int, int, int], ...] = ()) -> Route:
    return Route(prefix, as_path=path, communities=std, large_communities=lrg)


# What each client announces, and who must receive it with how many prepends of the left-most
# ASN (a client without a session in the route's family is left out of the expectation: E is
# IPv4 only). Keys name the cases the tests pick out.
Plan = dict[str, tuple[str, Route, dict[str, int]]]
EVERYONE_BUT_A = {"b": 0, "c": 0, "d": 0, "e": 0}

PLAN: Plan = {
    # do_not_announce_to_peer (0:peer_as / rs:0:peer_as)
    "deny_b_std": ("a", _r("185.60.1.0/24", std=((0, B_AS), (A_AS, 100))),
                   {"c": 0, "d": 0, "e": 0}),
    "deny_b_lrg": ("a", _r("185.60.7.0/24", lrg=((RS, 0, B_AS),)), {"c": 0, "d": 0, "e": 0}),
    "deny_c_lrg": ("a", _r("185.60.2.0/24", lrg=((RS, 0, C_AS), (A_AS, 1, 2))),
                   {"b": 0, "d": 0, "e": 0}),
    "deny_c_mapped": ("a", _r("185.60.14.0/24", std=((0, C_MAPPED),)), {"b": 0, "d": 0, "e": 0}),
    "deny_e_std": ("a", _r("185.60.15.0/24", std=((0, E_AS),)), {"b": 0, "c": 0, "d": 0}),
    "deny_b_std_v6": ("a", _r("2a0c:9a60:1::/48", std=((0, B_AS),)), {"c": 0, "d": 0}),
    "deny_d_from_gobgp": ("b", _r("185.64.1.0/24", (8283,), lrg=((RS, 0, D_AS),)),
                          {"a": 0, "c": 0, "e": 0}),
    "deny_b_from_4octet": ("c", _r("185.61.1.0/24", lrg=((RS, 0, B_AS),)),
                           {"a": 0, "d": 0, "e": 0}),
    # announce_to_peer (rs:peer_as / rs:1:peer_as) overriding do_not_announce_to_any
    "only_d_std": ("a", _r("185.60.3.0/24", std=((0, RS), (RS, D_AS))), {"d": 0}),
    "only_c_lrg": ("a", _r("185.60.4.0/24", std=((0, RS),), lrg=((RS, 1, C_AS),)), {"c": 0}),
    "only_c_mapped": ("a", _r("185.60.16.0/24", std=((0, RS), (RS, C_MAPPED))), {"c": 0}),
    "only_b_lrg": ("a", _r("185.60.6.0/24", lrg=((RS, 0, 0), (RS, 1, B_AS))), {"b": 0}),
    "only_a_v6_from_4octet": ("c", _r("2a0c:9a61::/32", lrg=((RS, 0, 0), (RS, 1, A_AS))),
                              {"a": 0}),
    "only_e_from_4octet": ("c", _r("185.61.3.0/24", lrg=((RS, 0, 0), (RS, 1, E_AS))),
                           {"e": 0}),
    # do_not_announce_to_any (0:rs_as / rs:0:0)
    "none_std": ("a", _r("185.60.5.0/24", std=((0, RS),)), {}),
    "none_lrg": ("a", _r("185.60.17.0/24", lrg=((RS, 0, 0),)), {}),
    "none_std_v6": ("a", _r("2a0c:9a60:3::/48", std=((0, RS),)), {}),
    # prepends: to any, to a peer, 1-3 times, standard and large
    "prepend1_any_std": ("a", _r("185.60.8.0/24", std=((65501, RS),)),
                         {"b": 1, "c": 1, "d": 1, "e": 1}),
    "prepend2_any_lrg": ("a", _r("185.60.11.0/24", lrg=((RS, 102, 0),)),
                         {"b": 2, "c": 2, "d": 2, "e": 2}),
    "prepend3_any_std": ("a", _r("185.60.12.0/24", std=((65503, RS),)),
                         {"b": 3, "c": 3, "d": 3, "e": 3}),
    "prepend2_d_std": ("a", _r("185.60.9.0/24", std=((65502, D_AS),)),
                       {"b": 0, "c": 0, "d": 2, "e": 0}),
    "prepend3_c_lrg": ("a", _r("185.60.10.0/24", lrg=((RS, 103, C_AS),)),
                       {"b": 0, "c": 3, "d": 0, "e": 0}),
    "prepend1_c_mapped": ("a", _r("185.60.18.0/24", std=((65501, C_MAPPED),)),
                          {"b": 0, "c": 1, "d": 0, "e": 0}),
    # towards a peer wins over towards any
    "prepend1_b_over_3_any": ("a", _r("185.60.13.0/24", std=((65503, RS),),
                                      lrg=((RS, 101, B_AS),)), {"b": 1, "c": 3, "d": 3, "e": 3}),
    "prepend2_c_lrg_v6": ("a", _r("2a0c:9a60:2::/48", lrg=((RS, 102, C_AS),)),
                          {"b": 0, "c": 2, "d": 0}),
    "prepend2_any_from_gobgp": ("b", _r("185.64.2.0/24", (8283,), std=((65502, RS), (B_AS, 7))),
                                {"a": 2, "c": 2, "d": 2, "e": 2}),
    # a 4-octet path prepended towards a 2-octet client: AS_TRANS plus AS4_PATH on the wire
    "prepend1_any_from_4octet": ("c", _r("185.61.2.0/24", lrg=((RS, 101, 0), (C_AS, 5, 5))),
                                 {"a": 1, "b": 1, "d": 1, "e": 1}),
    "prepend2_e_from_4octet": ("c", _r("185.61.4.0/24", lrg=((RS, 102, E_AS),)),
                               {"a": 0, "b": 0, "d": 0, "e": 2}),
    "plain": ("a", _r("185.60.19.0/24", std=((A_AS, 1),)), EVERYONE_BUT_A),
}

# No path hiding: the best path (A's, shorter) is blocked towards one client by a community;
# that client gets the second best (D's, one AS longer). Keys: (case, originator).
SECOND = (4444, 3333)
HIDING: dict[tuple[str, str], tuple[str, Route, dict[str, int]]] = {
    ("hide_b_std", "a"): ("a", _r("185.62.1.0/24", std=((0, B_AS),)), {"c": 0, "d": 0, "e": 0}),
    ("hide_b_std", "d"): ("d", _r("185.62.1.0/24", SECOND), {"a": 0, "b": 0}),
    ("hide_c_lrg", "a"): ("a", _r("185.62.2.0/24", lrg=((RS, 0, C_AS),)),
                          {"b": 0, "d": 0, "e": 0}),
    ("hide_c_lrg", "d"): ("d", _r("185.62.2.0/24", SECOND), {"a": 0, "c": 0}),
    ("hide_b_std_v6", "a"): ("a", _r("2a0c:9a62::/32", std=((0, B_AS),)), {"c": 0, "d": 0}),
    ("hide_b_std_v6", "d"): ("d", _r("2a0c:9a62::/32", SECOND), {"a": 0, "b": 0}),
    # announce only to B: C and E get the second best; D holds the second best itself (never
    # its own route back) and A's is not for it, so D gets nothing
    ("only_b_rest_second", "a"): ("a", _r("185.62.3.0/24", std=((0, RS), (RS, B_AS))),
                                  {"b": 0}),
    ("only_b_rest_second", "d"): ("d", _r("185.62.3.0/24", SECOND), {"a": 0, "c": 0, "e": 0}),
}


def _is_control_std(value: tuple[int, int]) -> bool:
    return value[0] in (0, RS, 65501, 65502, 65503)


def _is_control_lrg(value: tuple[int, int, int]) -> bool:
    return value[0] == RS


@dataclass
class World:
    rs: IxrsOnLan
    a: BirdPeer
    b: GobgpPeer
    c: ExabgpPeer
    d: BirdPeer
    e: ExabgpPeer  # a 2-octet speaker, IPv4 only
    # (case key) -> (originator, route, receivers with their prepends): the table's source
    plan: dict[object, tuple[str, Route, dict[str, int]]] = field(default_factory=dict)
    probes: Iterator[int] = field(default_factory=itertools.count)

    def peer(self, name: str) -> Peer:
        return getattr(self, name)

    def peers(self) -> list[Peer]:
        return [self.peer(n) for n in CLIENT_NAMES]


def _expected_view(world: World, origin: str, route: Route, prepends: int) -> RouteView:
    view = world.peer(origin).expected_view(route)
    return replace(
        view,
        as_path=(view.as_path[0],) * prepends + view.as_path,
        communities=tuple(c for c in view.communities if not _is_control_std(c)),
        large_communities=tuple(c for c in view.large_communities if not _is_control_lrg(c)),
    )


def _has_family(peer: Peer, route: Route) -> bool:
    return any(route.family in n.families for n in peer.spec.neighbors)


def _selected(key: object, cases: set[str] | None) -> bool:
    if cases is None:
        return True
    return (key[0] if isinstance(key, tuple) else key) in cases


def expected_tables(world: World, cases: set[str] | None = None
                    ) -> dict[str, dict[str, RouteView]]:
    """client -> prefix -> the route it should hold (only the plan's `cases`, if given)."""
    tables: dict[str, dict[str, RouteView]] = {n: {} for n in CLIENT_NAMES}
    for key, (origin, route, receivers) in world.plan.items():
        if not _selected(key, cases):
            continue
        for client, prepends in receivers.items():
            if not _has_family(world.peer(client), route):
                continue
            assert route.prefix not in tables[client], f"two routes of {route.prefix} for {client}"
            tables[client][route.prefix] = _expected_view(world, origin, route, prepends)
    return tables


def actual_tables(world: World, prefixes: set[str] | None = None
                  ) -> dict[str, dict[str, list[RouteView]]]:
    tables: dict[str, dict[str, list[RouteView]]] = {}
    for name in CLIENT_NAMES:
        table: dict[str, list[RouteView]] = {}
        for view in world.peer(name).received_routes():
            if prefixes is None or view.prefix in prefixes:
                table.setdefault(view.prefix, []).append(view)
        tables[name] = table
    return tables


def _flat(tables: dict[str, dict[str, list[RouteView]]]) -> dict[str, dict[str, RouteView]]:
    out: dict[str, dict[str, RouteView]] = {}
    for name, table in tables.items():
        out[name] = {}
        for prefix, views in table.items():
            assert len(views) == 1, f"{name} holds {len(views)} routes for {prefix}: {views}"
            out[name][prefix] = views[0]
    return out


def _diff(expected: dict[str, dict[str, RouteView]],
          actual: dict[str, dict[str, list[RouteView]]]) -> str:
    lines = []
    for name in CLIENT_NAMES:
        want, got = expected[name], actual.get(name, {})
        for prefix in sorted(set(want) | set(got)):
            have = got.get(prefix, [])
            if ([want[prefix]] if prefix in want else []) != have:
                lines.append(f"  {name} {prefix}: expected {want.get(prefix)}, holds {have}")
    return "\n".join(lines)


def wait_tables(world: World, cases: set[str] | None = None, timeout: float = CONVERGE
                ) -> dict[str, dict[str, RouteView]]:
    """Wait until every client holds exactly its expected table: all of it, or only the
    prefixes of the plan's `cases`. On timeout the error lists every difference."""
    expected = expected_tables(world, cases)
    prefixes = None if cases is None else {
        route.prefix for key, (_o, route, _r) in world.plan.items() if _selected(key, cases)}
    want = {n: {p: [v] for p, v in t.items()} for n, t in expected.items()}
    last: list[dict[str, dict[str, list[RouteView]]]] = [{}]

    def equal() -> bool:
        last[0] = actual_tables(world, prefixes)
        return last[0] == want

    try:
        wait_for(equal, timeout, "every client's table")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; differences:\n{_diff(expected, last[0])}") from None
    return _flat(last[0])


def _probe_routes(world: World) -> list[Route]:
    """One IPv4 and one IPv6 route in every routes partition, with fresh prefixes."""
    found: dict[tuple[int, int], Route] = {}
    while len(found) < 2 * PARTITIONS:
        n = next(world.probes)
        for version, prefix in ((4, f"185.63.{n}.0/24"), (6, f"2a0c:9a63:{n:x}::/48")):
            key = (version, partition_for(prefix, PARTITIONS))
            found.setdefault(key, _r(prefix, std=((A_AS, 999),)))
    return list(found.values())


def announce_from_a(world: World, routes: list[Route], keys: list[object],
                    receivers: dict[str, int]) -> None:
    """Announce several routes from BIRD A with one reconfiguration, and plan them."""
    for key, route in zip(keys, routes, strict=True):
        world.plan[key] = ("a", route, dict(receivers))
        world.a.routes[route.prefix] = route
    world.a.announce(routes[-1])


def settle(world: World) -> dict[str, dict[str, RouteView]]:
    """Announce fresh probes into every partition, then wait for every whole table."""
    probes = _probe_routes(world)
    announce_from_a(world, probes, [("probe", r.prefix) for r in probes], EVERYONE_BUT_A)
    return wait_tables(world)


def _neighbors(rs_host) -> tuple[Neighbor, ...]:
    return (Neighbor(rs_host.v4, RS), Neighbor(rs_host.v6, RS))


def _routes_of(plan: dict[object, tuple[str, Route, dict[str, int]]], origin: str
               ) -> tuple[Route, ...]:
    return tuple(r for o, r, _ in plan.values() if o == origin)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_tools("bird", "gobgp", "exabgp")
    workdir = tmp_path_factory.mktemp("export-control")
    clients = workdir / "clients.yml"
    clients.write_text(CLIENTS)
    plan: dict[object, tuple[str, Route, dict[str, int]]] = {**PLAN, **HIDING}
    cleanup_stale(DEFAULT_PREFIX)
    with IxpLan(DEFAULT_PREFIX) as lan, Lab(lan, workdir) as lab:
        rs_host = lab.host("rs")
        rs = IxrsOnLan(rs_host, workdir, ROOT / "examples" / "general.yml", clients,
                       partitions=PARTITIONS)
        try:
            rs.start_broker()
            rs.start_speaker()
            rs.start_worker()
            both = _neighbors(rs_host)
            world = World(
                rs,
                lab.bird(lab.host("a"), PeerSpec(A_AS, both, _routes_of(plan, "a"))),
                lab.gobgp(lab.host("b"), PeerSpec(B_AS, both, _routes_of(plan, "b"))),
                lab.exabgp(lab.host("c"), PeerSpec(C_AS, both, _routes_of(plan, "c"))),
                lab.bird(lab.host("d"), PeerSpec(D_AS, both, _routes_of(plan, "d"))),
                lab.exabgp(lab.host("e"), PeerSpec(E_AS, both[:1]), asn4=False),
                plan,
            )
            yield world
        finally:
            rs.close()


def _check(world: World, *cases: str) -> None:
    """The clients' tables, restricted to these cases, are exactly the plan's."""
    wait_tables(world, set(cases))


@pytest.fixture(scope="module")
def converged(world: World) -> World:
    for peer in world.peers():
        peer.wait_established(timeout=90)
    settle(world)
    return world


def test_every_client_gets_exactly_its_table(converged: World) -> None:
    """All cases at once: routes, AS_PATHs, communities and next hops at every daemon."""
    tables = wait_tables(converged)
    assert tables["a"] and tables["b"] and tables["c"] and tables["d"]


def test_do_not_announce_to_peer(converged: World) -> None:
    """0:peer and rs:0:peer keep a route from that client only; a 4-octet client is named in
    the large form or by its 16bit_mapped_asn; GoBGP and ExaBGP (4-octet) as originators."""
    _check(converged, "deny_b_std", "deny_b_lrg", "deny_c_lrg", "deny_c_mapped",
           "deny_e_std", "deny_b_std_v6", "deny_d_from_gobgp", "deny_b_from_4octet")


def test_announce_to_peer_overrides_do_not_announce_to_any(converged: World) -> None:
    _check(converged, "only_d_std", "only_c_lrg", "only_c_mapped", "only_b_lrg",
           "only_a_v6_from_4octet", "only_e_from_4octet")


def test_do_not_announce_to_any(converged: World) -> None:
    _check(converged, "none_std", "none_lrg", "none_std_v6")
    for peer in converged.peers():
        held = {v.prefix for v in peer.received_routes()}
        assert not held & {"185.60.5.0/24", "185.60.17.0/24", "2a0c:9a60:3::/48"}


def test_prepends(converged: World) -> None:
    """1-3 prepends of the left-most ASN, to any and to one peer, standard and large forms,
    towards 2- and 4-octet clients; towards a peer wins over towards any."""
    _check(converged, "prepend1_any_std", "prepend2_any_lrg", "prepend3_any_std",
           "prepend2_d_std", "prepend3_c_lrg", "prepend1_c_mapped", "prepend1_b_over_3_any",
           "prepend2_c_lrg_v6", "prepend2_any_from_gobgp", "prepend1_any_from_4octet",
           "prepend2_e_from_4octet")
    # spelled out once, at the daemons
    assert converged.d.route("185.60.9.0/24").as_path == (A_AS, A_AS, A_AS, 3333)
    assert converged.c.route("185.60.10.0/24").as_path == (A_AS,) * 4 + (3333,)
    assert converged.b.route("185.60.13.0/24").as_path == (A_AS, A_AS, 3333)
    assert converged.a.route("185.61.2.0/24").as_path == (C_AS, C_AS, 3333)
    # the 2-octet client: AS_TRANS on the wire, the 4-octet path restored from AS4_PATH
    assert converged.e.route("185.61.2.0/24").as_path == (C_AS, C_AS, 3333)
    assert converged.e.route("185.61.4.0/24").as_path == (C_AS, C_AS, C_AS, 3333)


def test_control_communities_are_scrubbed_and_others_kept(converged: World) -> None:
    for peer in converged.peers():
        for view in peer.received_routes():
            assert not [c for c in view.communities if _is_control_std(c)], (peer.name, view)
            assert not [c for c in view.large_communities if _is_control_lrg(c)], (
                peer.name, view)
    assert converged.c.route("185.60.1.0/24").communities == ((A_AS, 100),)
    assert converged.b.route("185.60.2.0/24").large_communities == ((A_AS, 1, 2),)
    assert converged.a.route("185.64.2.0/24").communities == ((B_AS, 7),)
    assert converged.d.route("185.61.2.0/24").large_communities == ((C_AS, 5, 5),)


def test_no_path_hiding(converged: World) -> None:
    """The best path blocked towards one client: that client gets the second best (D's), the
    others the best (A's)."""
    _check(converged, "hide_b_std", "hide_c_lrg", "hide_b_std_v6", "only_b_rest_second")
    assert converged.b.route("185.62.1.0/24").next_hop == "192.0.2.5"
    assert converged.c.route("185.62.1.0/24").next_hop == "192.0.2.2"
    assert converged.c.route("185.62.2.0/24").as_path == (D_AS, *SECOND)
    assert converged.b.route("2a0c:9a62::/32").next_hop == "2001:db8:1::5"
    assert converged.c.route("185.62.3.0/24").as_path == (D_AS, *SECOND)
    assert converged.d.route("185.62.3.0/24") is None
    assert converged.e.route("185.62.3.0/24").next_hop == "192.0.2.5"


def test_worker_kill9_and_restart_leave_the_tables_of_an_uninterrupted_run(
        converged: World) -> None:
    world = converged
    before = wait_tables(world)
    world.rs.kill("worker")
    # While no worker runs: a withdrawal, a new route, and a route whose control community
    # changes (from "not to B" to "not to D").
    world.plan.pop("plain")
    world.a.routes.pop("185.60.19.0/24")
    changed = _r("185.60.1.0/24", std=((0, D_AS), (A_AS, 100)))
    world.plan["deny_b_std"] = ("a", changed, {"b": 0, "c": 0, "e": 0})
    world.a.routes[changed.prefix] = changed
    announce_from_a(world, [_r("185.60.20.0/24", std=((0, C_MAPPED),))], ["while_down"],
                    {"b": 0, "d": 0, "e": 0})
    world.rs.start_worker()
    after = settle(world)
    # Everything the changes did not touch is as it was.
    touched = {"185.60.1.0/24", "185.60.19.0/24", "185.60.20.0/24"}
    for name in CLIENT_NAMES:
        kept = {p: v for p, v in before[name].items() if p not in touched}
        assert {p: v for p, v in after[name].items() if p in kept} == kept
    assert "185.60.1.0/24" in after["b"] and "185.60.1.0/24" not in after["d"]
    assert "185.60.19.0/24" not in after["b"]


def _burst(world: World, second_octet: int, count: int) -> None:
    """A announces `count` new routes in one go: a third not for B, a third prepended twice
    to any, a third plain."""
    routes = []
    for i in range(count):
        kind = i % 3
        std = ((0, B_AS),) if kind == 0 else ((65502, RS),) if kind == 1 else ()
        route = _r(f"185.{second_octet}.{i}.0/24", std=std)
        receivers = {"c": 0, "d": 0, "e": 0} if kind == 0 else (
            {n: 2 for n in EVERYONE_BUT_A} if kind == 1 else dict(EVERYONE_BUT_A))
        world.plan[("burst", route.prefix)] = ("a", route, receivers)
        world.a.routes[route.prefix] = route
        routes.append(route)
    world.a.announce(routes[-1])


def test_worker_kill9_during_a_burst(converged: World) -> None:
    """Killed while (most likely) in the middle of a burst of routes, whatever it had decided
    and saved by then: after the restart every table is the uninterrupted run's."""
    world = converged
    _burst(world, 65, 90)
    world.rs.kill("worker")
    world.rs.start_worker()
    settle(world)


def test_speaker_kill9_and_restart_leave_the_tables_of_an_uninterrupted_run(
        converged: World) -> None:
    world = converged
    before = wait_tables(world)
    _burst(world, 66, 60)  # in flight, perhaps, when the speaker dies
    world.rs.kill("speaker")
    for peer in world.peers():
        peer.wait_down(timeout=60)
    # While the speaker is away, A stops announcing a route; it must leave every client.
    world.plan.pop("prepend1_any_std")
    world.a.withdraw("185.60.8.0/24")
    world.rs.start_speaker()
    for peer in world.peers():
        peer.wait_established(timeout=90)
    after = settle(world)
    for name in CLIENT_NAMES:
        kept = {p: v for p, v in before[name].items() if p != "185.60.8.0/24"}
        assert kept, name
        assert {p: v for p, v in after[name].items() if p in kept} == kept
        assert "185.60.8.0/24" not in after[name]
