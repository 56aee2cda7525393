"""Replay against real peers (issue 8): `ixrs replay --at`, `ixrs explain` and
`ixrs replay --verify` on the log of an end-to-end run with real BIRD 2, GoBGP and ExaBGP
clients on the namespace IXP LAN, IPv4 and IPv6, a 2-octet speaker, communities, and the
route server's export-control actions.

The world is test_route_server's (same clients.yml, routes, filter cases, data sets; its
`world` fixture, a fresh instance for this module). `scene` then drives it through two
settled moments:

- T1: every client holds the initial table (each route from every other client, exactly as
  sent); the filter cases are rejected.
- T2: after withdrawals (BIRD, GoBGP, ExaBGP), new routes with export-control communities
  (not to one peer, only to one peer, prepends to any and to one peer, NO_EXPORT added), a
  second candidate for a prefix, and one session taken down (f's IPv6 session, `birdc
  disable`) while the client's other session stays up.

A table counts as settled once every client holds exactly what the plan calls for, read at
the daemon before and after the moment is taken. The tests then compare what replay says
was sent at T1 and T2 with what each client's own RIB held, ask `explain` about every filter
case, and `--verify` the whole log.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from ixrs.timespec import format_time
from tests.helpers import wait_for
from tests.interop.test_route_server import (  # the same world: reused, not rebuilt
    A_ROUTES,
    B_ROUTES,
    C_ROUTES,
    D_ROUTES,
    REJECTED,
    RS_AS,
    World,
    world,  # noqa: F401  (the fixture)
)
from tests.lab.base import Peer
from tests.lab.bird_peer import protocol_name
from tests.lab.spec import Family, Route, RouteView, family_of

SETTLE = 60.0  # deadline for every client's table to reach the plan
NO_EXPORT = (65535, 65281)
A_AS, B_AS, C_AS, D_AS = 20002, 262145, 196615, 20005


def _now_us() -> int:
    return time.time_ns() // 1000


# --- the plan: what every client must hold ---------------------------------------------


@dataclass(frozen=True)
class Offer:
    """One client's route for a prefix, and what the export policy makes of it: the clients
    that may receive it (None: every other client) with the prepends of the left-most ASN,
    and the communities the route server adds."""

    origin: Peer
    route: Route
    receivers: dict[str, int] | None = None
    added: tuple[tuple[int, int], ...] = ()


@dataclass
class Plan:
    # prefix -> its offers, best first (the order the decision process gives them)
    offers: dict[str, list[Offer]] = field(default_factory=dict)
    down: set[tuple[str, Family]] = field(default_factory=set)  # (client, family) sessions

    def expected(self, peer: Peer, family: Family) -> dict[str, RouteView]:
        """What `peer` must hold in `family`: per prefix, the best offer it may receive."""
        if (peer.name, family) in self.down or not _has_family(peer, family):
            return {}
        table = {}
        for prefix, offers in self.offers.items():
            if family_of(prefix) != family:
                continue
            for offer in offers:
                if offer.origin is peer:
                    continue
                if offer.receivers is not None and peer.name not in offer.receivers:
                    continue
                prepends = 0 if offer.receivers is None else offer.receivers[peer.name]
                table[prefix] = _view(offer, prepends)
                break
        return table


def _is_control_std(value: tuple[int, int]) -> bool:
    return value[0] in (0, RS_AS, 65501, 65502, 65503)


def _view(offer: Offer, prepends: int) -> RouteView:
    """The route as the receiving client holds it: prepended, control communities scrubbed,
    added communities added."""
    view = offer.origin.expected_view(offer.route)
    return replace(
        view,
        as_path=(view.as_path[0],) * prepends + view.as_path,
        communities=tuple(sorted(
            [c for c in view.communities if not _is_control_std(c)] + list(offer.added))),
        large_communities=tuple(c for c in view.large_communities if c[0] != RS_AS))


def _has_family(peer: Peer, family: Family) -> bool:
    return any(family_of(n.address) == family for n in peer.spec.neighbors)


# --- what the clients hold ---------------------------------------------------------------

# client name -> family -> prefix -> the route it holds
Tables = dict[str, dict[Family, dict[str, RouteView]]]


def _peers(w: World) -> list[Peer]:
    return [w.a, w.b, w.c, w.d, w.e, w.f]


def read_tables(w: World) -> Tables:
    """Every client's own RIB, read at the daemon (birdc, gobgp, ExaBGP's event log)."""
    tables: Tables = {}
    for peer in _peers(w):
        table: dict[Family, dict[str, RouteView]] = {"ipv4": {}, "ipv6": {}}
        for view in peer.received_routes():
            held = table[family_of(view.prefix)]
            assert view.prefix not in held, f"{peer.name} holds two routes for {view.prefix}"
            held[view.prefix] = view
        tables[peer.name] = table
    return tables


def _diff(want: Tables, got: Tables) -> str:
    lines = []
    for name, families in want.items():
        for family, table in families.items():
            have = got.get(name, {}).get(family, {})
            for prefix in sorted(set(table) | set(have)):
                if table.get(prefix) != have.get(prefix):
                    lines.append(f"  {name} {prefix}: expected {table.get(prefix)}, "
                                 f"holds {have.get(prefix)}")
    return "\n".join(lines)


def settled_moment(w: World, plan: Plan) -> tuple[int, Tables]:
    """A moment at which every client held exactly the plan's table: read before and after
    it, the same both times. Returns the moment and the tables."""
    want: Tables = {p.name: {f: plan.expected(p, f) for f in ("ipv4", "ipv6")}
                    for p in _peers(w)}
    last: list[Tables] = [{}]

    def moment() -> tuple[int, Tables] | None:
        before = last[0] = read_tables(w)
        if before != want:
            return None
        at = _now_us()
        after = last[0] = read_tables(w)
        return (at, after) if after == want else None

    try:
        return wait_for(moment, SETTLE, "every client's table to settle on the plan")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; differences:\n{_diff(want, last[0])}") from None


# --- the scene ---------------------------------------------------------------------------

# T2's changes: new routes with export-control actions (examples/general.yml, rs_as 59900)
NOT_TO_D = Route("185.56.0.0/24", as_path=(3333,), communities=((0, D_AS), (A_AS, 7)))
PREPEND2_ANY_V6 = Route("2a0c:9a46::/32", as_path=(3333,), communities=((65502, RS_AS),))
ONLY_TO_C = Route("185.57.0.0/24", as_path=(8283,),
                  large_communities=((RS_AS, 0, 0), (RS_AS, 1, C_AS), (B_AS, 1, 1)))
PREPEND1_D_NOEXPORT = Route("185.58.0.0/24", as_path=(212232,),
                            large_communities=((RS_AS, 101, D_AS), (RS_AS, 901, 0)))
# A second, longer, candidate for c's 185.52.0.0/24 (RPKI valid: origin AS212232)
SECOND_52 = Route(C_ROUTES[0].prefix, as_path=(3333, 212232))
WITHDRAWN = (A_ROUTES[0], B_ROUTES[1], C_ROUTES[1])


@dataclass
class Scene:
    world: World
    started: int  # before the world: the start of the log
    t1: int
    tables1: Tables
    t2: int
    tables2: Tables
    plan: Plan


@pytest.fixture(scope="module")
def started() -> int:
    return _now_us()


@pytest.fixture(scope="module")
def scene(started: int, world: World) -> Scene:  # noqa: F811
    w = world
    for peer in _peers(w):
        peer.wait_established(timeout=60)
    plan = Plan({prefix: [Offer(origin, route)] for prefix, (origin, route) in w.live.items()})
    t1, tables1 = settled_moment(w, plan)

    w.a.withdraw(A_ROUTES[0].prefix)
    w.b.withdraw(B_ROUTES[1].prefix)
    w.c.withdraw(C_ROUTES[1].prefix)
    for route in WITHDRAWN:
        del plan.offers[route.prefix]
    w.a.routes[NOT_TO_D.prefix] = NOT_TO_D  # BIRD: one reconfiguration for both
    w.a.announce(PREPEND2_ANY_V6)
    plan.offers[NOT_TO_D.prefix] = [Offer(w.a, NOT_TO_D, {"b": 0, "c": 0, "e": 0, "f": 0})]
    plan.offers[PREPEND2_ANY_V6.prefix] = [
        Offer(w.a, PREPEND2_ANY_V6, {"b": 2, "c": 2, "d": 2, "f": 2})]
    w.b.announce(ONLY_TO_C)
    plan.offers[ONLY_TO_C.prefix] = [Offer(w.b, ONLY_TO_C, {"c": 0})]
    w.b.announce(SECOND_52)
    plan.offers[SECOND_52.prefix].append(Offer(w.b, SECOND_52))  # longer: second best
    w.c.announce(PREPEND1_D_NOEXPORT)
    plan.offers[PREPEND1_D_NOEXPORT.prefix] = [Offer(
        w.c, PREPEND1_D_NOEXPORT, {"a": 0, "b": 0, "d": 1, "e": 0, "f": 0}, (NO_EXPORT,))]
    # f's IPv6 session goes down (BIRD sends Cease/Administrative Shutdown); its IPv4 one stays
    v6 = next(n for n in w.f.spec.neighbors if family_of(n.address) == "ipv6")
    w.f.birdc("disable", protocol_name(v6))
    plan.down.add(("f", "ipv6"))
    for prefix, offers in list(plan.offers.items()):
        plan.offers[prefix] = [o for o in offers if not (o.origin is w.f and ":" in prefix)]
        if not plan.offers[prefix]:
            del plan.offers[prefix]
    t2, tables2 = settled_moment(w, plan)
    return Scene(w, started, t1, tables1, t2, tables2, plan)


def ixrs(w: World, *args: str) -> subprocess.CompletedProcess[str]:
    """`ixrs ARGS` in the route server's namespace, against its broker."""
    return w.rs.command(*args, timeout=120)


def _parallel(w: World, commands: list[tuple[str, ...]]
              ) -> list[subprocess.CompletedProcess[str]]:
    """Several `ixrs` commands at once (each is a process reading the log on its own)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda argv: ixrs(w, *argv), commands))


# --- replay --at ---------------------------------------------------------------------------


def _replayed(stdout: str) -> dict[str, dict[str, RouteView]]:
    """Session address -> prefix -> the route replay says that session had been sent."""
    out: dict[str, dict[str, RouteView]] = {}
    for line in stdout.splitlines():
        record = json.loads(line)
        assert record["type"] == "adj-out", record
        a = record["attributes"]
        assert "{" not in a["as_path"], a  # no AS_SET here: a plain sequence
        view = RouteView.build(
            record["prefix"], a["next_hop"], [int(x) for x in a["as_path"].split()],
            [_ints2(c) for c in a["communities"]], [_ints3(c) for c in a["large_communities"]],
            a.get("med"), a["origin"].lower())
        held = out.setdefault(record["client"]["ip"], {})
        assert view.prefix not in held, f"two adj-out records of {view.prefix}: {record}"
        held[view.prefix] = view
    return out


def _ints2(text: str) -> tuple[int, int]:
    x, y = text.split(":")
    return int(x), int(y)


def _ints3(text: str) -> tuple[int, int, int]:
    x, y, z = text.split(":")
    return int(x), int(y), int(z)


def test_replay_at_t1_and_t2_is_what_each_client_held(scene: Scene) -> None:
    w = scene.world
    runs = _parallel(w, [("replay", "--at", format_time(at), "--what", "adj-out")
                         for at in (scene.t1, scene.t2)])
    for run, tables, label in zip(runs, (scene.tables1, scene.tables2), ("T1", "T2"),
                                  strict=True):
        assert run.returncode == 0, run.stderr
        replayed = _replayed(run.stdout)
        sessions = set()
        for peer in _peers(w):
            for neighbor in peer.spec.neighbors:
                address = peer.session_address(neighbor)
                sessions.add(address)
                family = family_of(neighbor.address)
                held = tables[peer.name][family]
                said = replayed.get(address, {})
                assert said == held, (
                    f"{label}: {peer.name} ({address}): replay says {_diff_views(said, held)}")
        assert set(replayed) <= sessions, f"{label}: adj-out of unknown sessions"
    # The scene really changed between the moments, in every way it was meant to.
    t1, t2 = scene.tables1, scene.tables2
    assert A_ROUTES[0].prefix in t1["b"]["ipv4"] and A_ROUTES[0].prefix not in t2["b"]["ipv4"]
    assert t1["f"]["ipv6"] and not t2["f"]["ipv6"], "f's IPv6 session went down"
    assert t2["f"]["ipv4"], "f's IPv4 session stayed up"
    assert t2["d"]["ipv4"][PREPEND1_D_NOEXPORT.prefix].as_path == (C_AS, C_AS, 212232)
    assert NO_EXPORT in t2["a"]["ipv4"][PREPEND1_D_NOEXPORT.prefix].communities
    assert NOT_TO_D.prefix not in t2["d"]["ipv4"] and NOT_TO_D.prefix in t2["e"]["ipv4"]
    assert set(t2["c"]["ipv4"]) >= {ONLY_TO_C.prefix} and ONLY_TO_C.prefix not in t2["a"]["ipv4"]
    assert t2["b"]["ipv6"][PREPEND2_ANY_V6.prefix].as_path == (A_AS, A_AS, A_AS, 3333)
    assert t2["c"]["ipv4"][SECOND_52.prefix].next_hop == "192.0.2.3", "no path hiding"


def _diff_views(said: dict[str, RouteView], held: dict[str, RouteView]) -> str:
    return "; ".join(f"{p}: {said.get(p)} but the client held {held.get(p)}"
                     for p in sorted(set(said) | set(held)) if said.get(p) != held.get(p))


# --- explain -------------------------------------------------------------------------------


def _explain(w: World, questions: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """(client address, prefix) -> the story `explain --at now --json` tells."""
    runs = _parallel(w, [("explain", "--at", "now", "--client", client, "--prefix", prefix,
                          "--json") for client, prefix in questions])
    stories = []
    for (client, prefix), run in zip(questions, runs, strict=True):
        assert run.returncode == 0, f"explain {client} {prefix}: {run.stderr}"
        [line] = run.stdout.splitlines()
        stories.append(json.loads(line))
    return stories


def _address(peer: Peer, prefix: str) -> str:
    return peer.local_address(family_of(prefix))


def test_explain_names_each_filter_case_and_its_reasons(scene: Scene) -> None:
    w = scene.world
    announcers = {"c": w.c, "d": w.d}
    asked = w.a  # another client, which holds none of them
    questions = [(_address(asked, route.prefix), route.prefix) for route, _who, _r in REJECTED]
    # accepted routes: a prefix with two candidates, a 2-octet client's IPv6 route, a route
    # the client is kept from by a community, and a route prepended towards the 2-octet client
    questions += [(_address(w.a, SECOND_52.prefix), SECOND_52.prefix),
                  (_address(w.b, D_ROUTES[1].prefix), D_ROUTES[1].prefix),
                  (_address(w.d, NOT_TO_D.prefix), NOT_TO_D.prefix),
                  (_address(w.d, PREPEND1_D_NOEXPORT.prefix), PREPEND1_D_NOEXPORT.prefix)]
    stories = _explain(w, questions)
    for (route, who, reasons), story in zip(REJECTED, stories[:len(REJECTED)], strict=True):
        announcer = _address(announcers[who], route.prefix)
        verdicts = [e for e in story["events"] if e["event"] == "verdict"
                    and e["peer"]["ip"] == announcer]
        assert verdicts, f"{route.prefix}: no verdict on {announcer}'s route: {story['events']}"
        for verdict in verdicts:
            assert verdict["accepted"] is False, (route.prefix, verdict)
            assert [r["name"] for r in verdict["reasons"]] == list(reasons), (
                route.prefix, verdict)
        assert [e for e in story["events"] if e["event"] == "announced"
                and e["peer"]["ip"] == announcer], route.prefix
        assert not [c for c in story["candidates"] if c["from"]["ip"] == announcer], (
            route.prefix, story["candidates"])
        assert story["outcome"]["route"] is None, (route.prefix, story["outcome"])
        assert not [s for s in story["sent"] if s["event"] == "announced"], route.prefix

    two, two_octet, denied, to_two_octet = stories[len(REJECTED):]
    c4 = _address(w.c, SECOND_52.prefix)
    assert [c["from"]["ip"] for c in two["candidates"]] == [c4, _address(w.b, SECOND_52.prefix)]
    assert two["outcome"]["route"]["from"] == {"asn": C_AS, "ip": c4}
    assert two["outcome"]["step"] == "as-path-length"
    assert two["sent"][-1]["event"] == "announced"

    d6 = _address(w.d, D_ROUTES[1].prefix)
    verdicts = [e for e in two_octet["events"] if e["event"] == "verdict"]
    assert verdicts and all(v["accepted"] and not v["reasons"] for v in verdicts), verdicts
    assert two_octet["outcome"]["route"]["from"] == {"asn": D_AS, "ip": d6}
    assert two_octet["outcome"]["step"] == "only-candidate"
    assert two_octet["outcome"]["route"]["attributes"]["as_path"] == f"{D_AS}"

    a4 = _address(w.a, NOT_TO_D.prefix)
    [candidate] = denied["candidates"]
    assert candidate["from"]["ip"] == a4 and candidate["for_client"] is False
    assert candidate["why_not"] == "a community says: do not announce to this client"
    assert denied["outcome"]["route"] is None

    # What the 2-octet client was sent, read as it was negotiated (AS_TRANS + AS4_PATH on the
    # wire): announced once, prepended, NO_EXPORT added; never withdrawn.
    path = f"{C_AS} {C_AS} 212232"
    assert to_two_octet["outcome"]["route"]["attributes"]["as_path"] == path
    assert [s["event"] for s in to_two_octet["sent"]] == ["announced"], to_two_octet["sent"]
    sent = to_two_octet["sent"][0]["attributes"]
    assert sent["as_path"] == path
    assert sent["communities"] == ["65535:65281"] and sent["large_communities"] == []
    assert sent == to_two_octet["outcome"]["route"]["attributes"]


# --- verify --------------------------------------------------------------------------------


def test_verify_of_the_whole_run_finds_no_divergence(scene: Scene) -> None:
    w = scene.world
    run = ixrs(w, "replay", "--verify", "--from", format_time(scene.started), "--to", "now")
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stderr.strip().splitlines()[-1]
    assert summary.endswith(" 0 divergences"), summary
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (verdicts|decisions|sent)",
                                                      summary)}
    # every route of the run was judged, decided and sent: the comparison was not empty
    assert counts["verdicts"] >= len(REJECTED) and counts["decisions"] >= 20, summary
    assert counts["sent"] >= 20, summary
