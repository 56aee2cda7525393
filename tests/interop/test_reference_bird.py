"""ixrs against the reference route server (issue 7): BIRD 2 running the configuration
`arouteserver bird` builds from the same general.yml and clients.yml.

Two namespace IXP LANs side by side, alike but for the route server at 192.0.2.1 and
2001:db8:1::1: ixrs (broker, speaker, worker) on one, the arouteserver-built BIRD on the other.
Each has the same six clients (BIRD, GoBGP, ExaBGP; 2- and 4-octet ASNs; IPv4 and IPv6; two
routers of one AS; client-level settings) announcing the same routes (ROUTES, DISPUTED,
REJECTED): export-control communities in their standard and large forms, every import filter
case, overlapping prefixes decided by path length, GRACEFUL_SHUTDOWN, MED and router id, paths
with a client's ASN, no path hiding; then CHANGES to some of them (withdrawals, attributes
changed). Every client's final table, read at the daemon, must be the same from both route
servers (prefix, NEXT_HOP, AS_PATH, communities, large communities, MED, ORIGIN), except for
the differences docs/differences.md lists with the reason ixrs is right; and every difference
listed there must still occur.

A table is taken as settled once each client holds every other AS's sentinel routes, announced
by each client after its session is up and after its other routes (and again after CHANGES): a
route server handles one session's routes in order (ixrs runs with one routes partition for
that reason), so a sentinel arriving means everything its client sent before has been decided
and sent.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import wait_for
from tests.interop.reference import (
    Difference,
    ReferenceBird,
    Table,
    arouteserver_binary,
    compare,
    listed_differences,
    stale,
    unlisted,
    write_irr,
)
from tests.interop.system import IxrsOnLan
from tests.lab.fixtures import Lab, require_tools
from tests.lab.netns import DEFAULT_PREFIX, Host, IxpLan, cleanup_stale
from tests.lab.peers import Neighbor, Peer, PeerSpec, Route

pytestmark = [pytest.mark.netns, pytest.mark.broker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RS = 59900  # examples/general.yml's rs_as
A_AS, B_AS, C_AS, D_AS, E_AS = 20002, 262145, 196615, 20005, 20006
C_MAPPED = 64700  # c's 16bit_mapped_asn: how standard communities name the 4-octet client
NAMES = ("a", "b", "c", "d", "e", "f")  # hosts .2 to .7, in clients.yml's order
ADDRESSES = {name: f"192.0.2.{i + 2}" for i, name in enumerate(NAMES)}
ASNS = {"a": A_AS, "b": B_AS, "c": C_AS, "d": D_AS, "e": E_AS, "f": A_AS}
GSHUT = (65535, 0)
# The AS-SET tags general.yml gets here (_general): prefix and origin, present or not.
IRR_OK, ORIGIN_OK, IRR_NOT, ORIGIN_NOT = ((RS, 64512, n) for n in (11, 12, 21, 22))
NO_EXPORT = (65535, 65281)
BLACKHOLE = (65535, 666)
BLACKHOLE_V4, BLACKHOLE_V6 = "192.0.2.66", "2001:db8:1::66"  # blackhole next hops

CLIENTS = f"""
clients:
  - asn: {A_AS}       # a: BIRD
    ip: ["192.0.2.2", "2001:db8:1::2"]
  - asn: {B_AS}      # b: GoBGP, 4-octet
    ip: ["192.0.2.3", "2001:db8:1::3"]
    cfg:
      passive: False  # GoBGP waits 5-10 s before its first connect: the route server calls
  - asn: {C_AS}      # c: ExaBGP, 4-octet, named in standard communities by its mapping
    ip: ["192.0.2.4", "2001:db8:1::4"]
    16bit_mapped_asn: {C_MAPPED}
  - asn: {D_AS}       # d: BIRD, with filters of its own
    ip: ["192.0.2.5", "2001:db8:1::5"]
    cfg:
      filtering:
        max_as_path_len: 4
        rpki_bgp_origin_validation:
          reject_invalid: False
  - asn: {E_AS}       # e: ExaBGP, a 2-octet speaker, IPv4 only, the RS's ASN prepended,
    ip: "192.0.2.6"   # its routes must be in its AS-SET
    cfg:
      prepend_rs_as: True
      filtering:
        irrdb:
          as_sets: ["AS-E"]
          enforce_origin_in_as_set: True
          enforce_prefix_in_as_set: True
  - asn: {A_AS}       # f: BIRD, a's AS's second router, no blackholes for it
    ip: ["192.0.2.7", "2001:db8:1::7"]
    cfg:
      blackhole_filtering:
        announce_to_client: False
"""

# The same VRPs go to both: a file arouteserver reads (rpki_roas in general.yml) and
# `ixrs load-rpki` publishes.
VRPS = {"roas": [
    {"asn": "AS212232", "prefix": "185.70.2.0/24", "maxLength": 24, "ta": "ripe"},
    {"asn": "AS212232", "prefix": "2a0c:9a72::/32", "maxLength": 32, "ta": "ripe"},
    {"asn": "AS212232", "prefix": "185.71.1.0/24", "maxLength": 24, "ta": "ripe"},
    {"asn": "AS212232", "prefix": "185.69.0.0/24", "maxLength": 24, "ta": "ripe"},
]}


# e's AS-SET, the same for both (a bgpq4 stand-in for arouteserver, `ixrs load-irr`).
IRR = {"AS-E": {
    "asns": [E_AS, 3333],
    "v4": [{"prefix": "185.66.0.0/23", "exact": False, "greater-equal": 24, "less-equal": 24},
           {"prefix": "185.66.3.0/24", "exact": True},
           {"prefix": "185.74.10.0/24", "exact": True},
           {"prefix": "185.79.4.0/24", "exact": True},  # e's sentinels
           {"prefix": "185.78.4.0/24", "exact": True},
           {"prefix": "185.70.10.0/24", "exact": True}],
    "v6": [],
}}


def _r(prefix: str, path: tuple[int, ...] = (3333,), std: tuple[tuple[int, int], ...] = (),
       lrg: tuple[tuple[int, int, int], ...] = (), med: int | None = None,
       **kw: object) -> Route:
    return Route(prefix, as_path=path, communities=std, large_communities=lrg, med=med,
                 **kw)  # type: ignore[arg-type]


# (client, route) in the order each client sends them. Public-looking prefixes and ASNs for
# the routes meant to pass (../shared/BGP-LAB.md lists what the default filters reject).
ROUTES: tuple[tuple[str, Route], ...] = (
    # --- export control, standard and large forms (cases of test_export_control.py) ---
    ("a", _r("185.60.1.0/24", std=((0, D_AS), (A_AS, 100)))),  # not to d
    ("a", _r("185.60.2.0/24", lrg=((RS, 0, C_AS), (A_AS, 1, 2)))),  # not to c
    ("a", _r("185.60.3.0/24", std=((0, C_MAPPED),))),  # not to c, by its mapped ASN
    ("a", _r("185.60.4.0/24", lrg=((RS, 0, B_AS),))),  # not to b (4-octet)
    ("a", _r("185.60.5.0/24", std=((0, E_AS),))),  # not to e
    ("a", _r("2a0c:9a60:1::/48", std=((0, D_AS),))),
    ("a", _r("185.60.6.0/24", std=((0, RS), (RS, D_AS)))),  # only to d
    ("a", _r("185.60.7.0/24", std=((0, RS),), lrg=((RS, 1, C_AS),))),  # only to c
    ("a", _r("185.60.8.0/24", std=((0, RS), (RS, C_MAPPED)))),  # only to c, mapped
    ("a", _r("185.60.9.0/24", lrg=((RS, 0, 0), (RS, 1, B_AS)))),  # only to b
    ("a", _r("185.60.10.0/24", std=((0, RS),))),  # to nobody
    ("a", _r("185.60.11.0/24", lrg=((RS, 0, 0),))),
    ("a", _r("2a0c:9a60:3::/48", std=((0, RS),))),
    ("a", _r("185.60.12.0/24", std=((65501, RS),))),  # prepend once to any
    ("a", _r("185.60.13.0/24", lrg=((RS, 102, 0),))),  # twice to any
    ("a", _r("185.60.14.0/24", std=((65503, RS),))),  # thrice to any
    ("a", _r("185.60.15.0/24", std=((65502, D_AS),))),  # twice to d
    ("a", _r("185.60.16.0/24", lrg=((RS, 103, C_AS),))),  # thrice to c
    ("a", _r("185.60.17.0/24", std=((65501, C_MAPPED),))),  # once to c, mapped
    ("a", _r("185.60.18.0/24", std=((65503, RS),), lrg=((RS, 101, B_AS),))),  # peer wins
    ("a", _r("2a0c:9a60:2::/48", lrg=((RS, 102, C_AS),))),
    ("a", _r("185.60.19.0/24", std=((A_AS, 1),), med=10)),  # plain, with a MED
    ("a", _r("2a0c:9a60:4::/48", med=20)),
    ("a", _r("185.60.20.0/24", std=(NO_EXPORT,))),  # well-known: passed as it is
    ("a", _r("185.60.22.0/24", lrg=((RS, 901, D_AS),))),  # NO_EXPORT added towards d
    ("a", _r("185.60.23.0/24", lrg=((RS, 902, 0),))),  # NO_ADVERTISE added towards all
    ("a", _r("185.60.24.0/24", std=((0, 64600),))),  # names no client: kept, not scrubbed
    ("a", _r("185.60.25.1/32", std=(BLACKHOLE,))),  # RFC 7999 blackhole, propagated
    ("a", _r("2a0c:9a60:5::1/128", lrg=((RS, 666, 0),))),  # blackhole, large form
    ("a", _r("185.60.26.0/24", lrg=((RS, 1000, 4),))),  # a client's own "RPKI invalid"
    ("a", _r("185.60.27.0/24", lrg=((RS, 1000, 1),))),  # ... and "RPKI valid"
    ("a", _r("185.60.28.0/24", std=((RS, 64600),), lrg=((RS, 7, 7), (RS, 1, 64600)))),
    ("a", _r("185.60.29.0/24", ())),  # originated by a: its own ASN is in its "AS-SET"
    ("a", _r("185.60.30.0/24", lrg=((RS, 64512, 11), (RS, 64512, 12)))),  # forged IRR tags
    ("d", _r("44.0.0.0/8")),  # the shortest IPv4 prefix allowed
    ("d", _r("2a00::/12")),  # ... and IPv6
    ("b", _r("185.64.1.0/24", (8283,), lrg=((RS, 0, D_AS),))),
    ("b", _r("185.64.2.0/24", (8283,), std=((65502, RS), (8283, 7)))),
    ("b", _r("2a0c:9a64::/32", (8283,))),
    ("b", _r("185.64.3.0/24", (8283,), origin="incomplete")),
    ("a", _r("185.60.31.0/24", origin="egp")),
    ("c", _r("185.61.1.0/24", lrg=((RS, 0, B_AS),))),
    ("c", _r("2a0c:9a61::/32", lrg=((RS, 0, 0), (RS, 1, A_AS)))),
    ("c", _r("185.61.3.0/24", lrg=((RS, 0, 0), (RS, 1, E_AS)))),  # only to the 2-octet e
    ("c", _r("185.61.2.0/24", lrg=((RS, 101, 0), (C_AS, 5, 5)))),  # AS4_PATH to e
    ("c", _r("185.61.4.0/24", lrg=((RS, 102, E_AS),))),
    ("c", _r("185.71.0.0/24", (3333,) * 31)),  # AS_PATH of 32: the longest allowed
    ("c", _r("185.71.1.0/24", (212232,))),  # RPKI valid
    ("c", _r("185.61.5.0/24", ())),  # originated by the 4-octet c
    ("c", _r("185.61.6.1/32", lrg=((RS, 666, 0),))),  # a blackhole f must not get
    ("d", _r("185.65.0.0/24", (4444,))),
    ("d", _r("2a0c:9a65::/32")),
    ("d", _r("185.65.1.0/24", (4444, 5555, 6666))),  # d's own limit: 4, the longest
    ("e", _r("185.66.0.0/24", std=((0, C_MAPPED),))),
    ("e", _r("185.66.1.0/24", std=((65501, RS),))),
    # --- one prefix from several clients: the decision process ---
    ("a", _r("185.74.1.0/24")),  # shortest AS_PATH wins
    ("b", _r("185.74.1.0/24", (8283, 3333))),
    ("d", _r("185.74.1.0/24", (4444, 5555, 3333))),
    ("a", _r("185.74.2.0/24", med=50)),  # MED tie, same length: lowest router id (a)
    ("d", _r("185.74.2.0/24", med=50)),
    ("a", _r("185.74.3.0/24", med=100)),  # MEDs of different neighbour ASes: not compared
    ("d", _r("185.74.3.0/24", med=10)),
    ("c", _r("185.74.4.0/24", (212232,))),  # 4-octet origins, router id decides (b)
    ("b", _r("185.74.4.0/24", (212232,))),
    ("c", _r("2a0c:9a74:4::/48", (212232,))),
    ("b", _r("2a0c:9a74:4::/48", (212232,))),
    ("d", _r("2a0c:9a74:4::/48", (212232,))),
    ("a", _r("185.74.5.0/24", std=(GSHUT,))),  # GRACEFUL_SHUTDOWN loses to a longer path
    ("d", _r("185.74.5.0/24", (4444, 3333))),
    ("a", _r("185.74.6.0/24", (D_AS, 3333))),  # the best holds d's ASN; b's is next
    ("b", _r("185.74.6.0/24", (8283, 7777, 3333))),
    ("a", _r("185.74.7.0/24", (C_AS, 3333))),  # the only path holds c's ASN
    ("a", _r("185.74.8.0/24", lrg=((RS, 0, B_AS),))),  # no path hiding: b gets d's
    ("d", _r("185.74.8.0/24", (4444, 3333))),
    ("a", _r("185.74.9.0/24", std=((0, RS), (RS, E_AS)))),  # only e gets a's; others d's
    ("d", _r("185.74.9.0/24", (4444, 3333))),
    ("a", _r("2a0c:9a74:8::/48", lrg=((RS, 0, B_AS),))),  # as 185.74.8.0/24, IPv6
    ("d", _r("2a0c:9a74:8::/48", (4444, 3333))),
    ("e", _r("185.74.10.0/24")),  # same length: router id (a's .2 before e's .6)
    ("a", _r("185.74.10.0/24")),
    ("a", _r("185.74.11.0/24", med=50)),  # one neighbour AS: MED decides (f's)
    ("f", _r("185.74.11.0/24", med=10)),
    ("f", _r("185.74.12.0/24", med=10)),  # one neighbour AS, MED tie: router id (a's)
    ("a", _r("185.74.12.0/24", med=10)),
    ("f", _r("185.74.13.0/24", med=5)),  # a missing MED is 0, the best (a's)
    ("a", _r("185.74.13.0/24")),
    ("f", _r("2a0c:9a74:11::/48", med=7)),  # IPv6: MED decides (f's) over router id
    ("a", _r("2a0c:9a74:11::/48", med=8)),
    ("f", _r("185.67.0.0/24", (8283,), std=((65501, RS), (0, E_AS)))),  # not to e, prepended
    # --- changed once every client holds them (CHANGES) ---
    ("a", _r("185.75.1.0/24")),
    ("b", _r("185.75.1.0/24", (8283, 3333))),
    ("a", _r("185.75.2.0/24", std=((0, D_AS),))),
    ("a", _r("185.75.3.0/24", std=(GSHUT,))),
    ("d", _r("185.75.3.0/24", (4444, 3333))),
    ("c", _r("185.75.4.0/24", lrg=((RS, 0, B_AS),))),
    ("c", _r("185.75.5.0/24", (212232,))),
    ("b", _r("185.75.5.0/24", (212232,))),
    ("a", _r("2a0c:9a75:1::/48", med=5)),
    ("d", _r("2a0c:9a75:1::/48", (4444, 3333))),
    ("d", _r("185.75.6.0/24")),
)

# What the clients change once every client holds every route: a route (announced again with
# other attributes) or a prefix (withdrawn). The tables compared are those after the changes.
CHANGES: tuple[tuple[str, Route | str], ...] = (
    ("a", "185.75.1.0/24"),  # the best withdrawn: b's is next
    ("a", _r("185.75.2.0/24", std=((0, E_AS),))),  # not to d -> not to e
    ("a", _r("185.75.3.0/24")),  # GRACEFUL_SHUTDOWN over: a's wins again
    ("c", _r("185.75.4.0/24", lrg=((RS, 0, D_AS),))),  # not to b -> not to d
    ("b", "185.75.5.0/24"),  # the best (router id) withdrawn: c's is next
    ("a", "2a0c:9a75:1::/48"),
    ("d", "185.75.6.0/24"),  # the only route withdrawn: gone everywhere
)

# Routes the two route servers treat differently, on purpose (docs/differences.md).
DISPUTED: tuple[tuple[str, Route], ...] = (
    # over d's own max_as_path_len, which the BIRD templates of arouteserver 1.27 ignore
    ("d", _r("185.65.2.0/24", (4444, 5555, 6666, 7777))),
)

# The import filter cases: no client may hold these from either route server.
REJECTED: tuple[tuple[str, Route], ...] = (
    ("c", _r("185.70.0.0/24", next_hop="192.0.2.99")),  # next hop not the client's
    ("c", _r("2a0c:9a70::/32", next_hop="2001:db8:1::99")),
    ("c", _r("10.99.0.0/16")),  # bogons
    ("c", _r("2001:db8:ff00::/40")),
    ("c", _r("185.70.1.0/24", (20003, 3333), prepend_own_as=False)),  # left-most ASN
    ("c", _r("185.70.2.0/24")),  # RPKI invalid
    ("c", _r("2a0c:9a72::/32")),
    ("c", _r("185.70.3.128/25")),  # too long prefixes
    ("c", _r("2a0c:9a73::/49")),
    ("c", _r("185.70.4.0/24", (3356, 3333))),  # transit-free ASN
    ("c", _r("185.70.5.0/24", (3333,) * 32)),  # AS_PATH of 33
    ("c", _r("185.70.6.0/24", (64512, 3333))),  # private ASNs
    ("c", _r("185.70.7.0/24", (4200000001, 3333))),
    ("c", _r("185.70.8.0/24", (23456, 3333))),  # AS_TRANS
    ("c", _r("185.70.9.0/24", (64496, 3333))),  # documentation ASN
    ("e", _r("185.70.10.0/24", (3257, 3333))),  # transit-free, from the 2-octet client
    ("e", _r("185.66.2.0/24")),  # not in e's AS-SET
    ("e", _r("185.66.0.0/23")),  # ... nor this (only /24s of it)
    ("e", _r("185.66.3.0/24", (4444,))),  # an origin not in e's AS-SET
    ("b", _r("0.0.0.0/0", (8283,))),  # default route
    ("c", _r("185.70.11.0/24", next_hop="192.0.2.5")),  # another client's address
    ("c", _r("185.70.12.0/24", next_hop="192.0.2.1")),  # the route server's
    ("d", _r("44.0.0.0/7")),  # too short
    ("d", _r("185.68.0.0/24", (RS, 3333))),  # the route server's ASN: a loop
    # RPKI invalid, from a client that does not reject them: accepted, but without hooks
    # never announced (arouteserver's `announce_to_<client>`)
    ("d", _r("185.69.0.0/24")),
    ("d", _r("2a00::/11")),
    ("d", _r("fc00:1::/48")),  # a bogon (ULA), from BIRD
)


def _sentinels(name: str, phase: int) -> tuple[Route, ...]:
    """A client's sentinel routes of phase 1 (before CHANGES) or 2 (after)."""
    i, third = NAMES.index(name), 80 - phase
    v6 = () if name == "e" else (_r(f"2a0c:9a{third}:{i}::/48"),)
    return (_r(f"185.{third}.{i}.0/24"), *v6)


@dataclass
class Side:
    """One route server with its six clients on a LAN of its own."""

    name: str  # "ixrs" or "bird"
    lab: Lab
    peers: dict[str, Peer]
    server: IxrsOnLan | ReferenceBird

    def table(self, name: str) -> Table:
        """A client's routes from the route server, one per prefix."""
        table: Table = {}
        for view in self.peers[name].received_routes():
            assert view.prefix not in table, f"{self.name}: {name} holds {view.prefix} twice"
            table[view.prefix] = view
        return table

    def tables(self) -> dict[str, Table]:
        return {name: self.table(name) for name in NAMES}


@dataclass
class Runs:
    ixrs: Side
    bird: Side


def _sessions(rs_host: Host, v6: bool = True) -> tuple[Neighbor, ...]:
    v4 = Neighbor(rs_host.v4 or "", RS)
    return (v4, Neighbor(rs_host.v6 or "", RS)) if v6 else (v4,)


def _start_clients(lab: Lab, rs_host: Host) -> dict[str, Peer]:
    """The clients in NAMES order, so that each gets the address clients.yml gives it."""
    hosts = {name: lab.host(name) for name in NAMES}
    routes = {name: tuple(r for who, r in ROUTES + DISPUTED + REJECTED if who == name)
              for name in NAMES}
    both = _sessions(rs_host)
    return {
        "a": lab.bird(hosts["a"], PeerSpec(A_AS, both, routes["a"])),
        "b": lab.gobgp(hosts["b"], PeerSpec(B_AS, both, routes["b"])),
        "c": lab.exabgp(hosts["c"], PeerSpec(C_AS, both, routes["c"])),
        "d": lab.bird(hosts["d"], PeerSpec(D_AS, both, routes["d"])),
        "e": lab.exabgp(hosts["e"], PeerSpec(E_AS, _sessions(rs_host, v6=False), routes["e"]),
                        asn4=False),
        "f": lab.bird(hosts["f"], PeerSpec(A_AS, both, routes["f"])),
    }


def _settle(side: Side, phase: int) -> None:
    """Each client's sentinels of `phase`, then wait until every client holds every other
    AS's (in the families it has; a router never accepts a path with its own ASN, so a and f
    cannot wait on each other's)."""
    for name, peer in side.peers.items():
        for route in _sentinels(name, phase):
            peer.announce(route)

    def arrived() -> bool:
        for name, peer in side.peers.items():
            held = {v.prefix for v in peer.received_routes()}
            for other in NAMES:
                wanted = {r.prefix for r in _sentinels(other, phase)
                          if name != "e" or ":" not in r.prefix}
                if ASNS[other] != ASNS[name] and not wanted <= held:
                    return False
        return True

    wait_for(arrived, 90, f"every sentinel of phase {phase} at every client of {side.name}")


def _converge(side: Side) -> None:
    """Sessions up; every route everywhere; the CHANGES; and every change everywhere."""
    for peer in side.peers.values():
        peer.wait_established(timeout=90)
    _settle(side, 1)
    for name, change in CHANGES:
        peer = side.peers[name]
        if isinstance(change, Route):
            peer.announce(change)
        else:
            peer.withdraw(change)
    _settle(side, 2)


def _general(vrps: Path) -> dict[str, Any]:
    """examples/general.yml, plus what arouteserver needs to run offline (ROAs from a local
    file: ixrs warns that it ignores rpki_roas and takes them from `load-rpki`), plus AS-SET
    tagging (every route then carries what both route servers found in the IRR data) and
    blackhole next-hop rewriting."""
    general = yaml.safe_load((ROOT / "examples" / "general.yml").read_text())
    cfg = general["cfg"]
    cfg["rpki_roas"] = {"source": "ripe-rpki-validator-cache",
                        "ripe_rpki_validator_url": [str(vrps)]}
    cfg["filtering"]["irrdb"]["tag_as_set"] = True
    # blackholes go to a discard address on the LAN, not to the client that announced them
    cfg["blackhole_filtering"].update({
        "policy_ipv4": "rewrite-next-hop", "rewrite_next_hop_ipv4": BLACKHOLE_V4,
        "policy_ipv6": "rewrite-next-hop", "rewrite_next_hop_ipv6": BLACKHOLE_V6})
    for name, value in (("prefix_present_in_as_set", IRR_OK),
                        ("origin_present_in_as_set", ORIGIN_OK),
                        ("prefix_not_present_in_as_set", IRR_NOT),
                        ("origin_not_present_in_as_set", ORIGIN_NOT)):
        cfg["communities"][name] = {"lrg": "rs_as:" + ":".join(map(str, value[1:]))}
    return general


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    require_tools("bird", "gobgp", "exabgp")
    if arouteserver_binary() is None:
        pytest.skip("arouteserver is not installed")
    workdir = tmp_path_factory.mktemp("reference")
    vrps = workdir / "vrps.json"
    vrps.write_text(json.dumps(VRPS))
    general = workdir / "general.yml"
    general.write_text(yaml.safe_dump(_general(vrps), sort_keys=False))
    clients = workdir / "clients.yml"
    clients.write_text(CLIENTS)
    bgpq4, irr = write_irr(workdir, IRR)
    cleanup_stale(DEFAULT_PREFIX)
    with contextlib.ExitStack() as stack:
        # The reference first: BIRD starts in well under a second and converges while ixrs's
        # broker and roles start on the other LAN.
        lan = stack.enter_context(IxpLan(DEFAULT_PREFIX))
        lab = stack.enter_context(Lab(lan, workdir / "bird"))
        rs_host = lab.host("rs")
        bird = ReferenceBird(rs_host, workdir / "bird" / "rs", general, clients, bgpq4)
        stack.callback(bird.close)
        bird.start()
        bird_side = Side("bird", lab, _start_clients(lab, rs_host), bird)

        lan = stack.enter_context(IxpLan(DEFAULT_PREFIX))
        lab = stack.enter_context(Lab(lan, workdir / "ixrs"))
        rs_host = lab.host("rs")
        (workdir / "ixrs").mkdir(exist_ok=True)
        ixrs = IxrsOnLan(rs_host, workdir / "ixrs", general, clients, partitions=1)
        stack.callback(ixrs.close)
        ixrs.start_broker()
        ixrs.start_speaker()
        ixrs.start_worker()
        # The data sets before any route: none is accepted even for a moment.
        for args in (("load-rpki", str(vrps)), ("load-irr", str(irr))):
            done = ixrs.command(*args)
            assert done.returncode == 0, done.stderr
        ixrs_side = Side("ixrs", lab, _start_clients(lab, rs_host), ixrs)

        _converge(bird_side)
        _converge(ixrs_side)
        yield Runs(ixrs_side, bird_side)


def _differences(runs: Runs) -> list[Difference]:
    found: list[Difference] = []
    ixrs, bird = runs.ixrs.tables(), runs.bird.tables()
    for name in NAMES:
        found += compare(ADDRESSES[name], ixrs[name], bird[name])
    return found


@pytest.fixture(scope="module")
def differences(runs: Runs) -> list[Difference]:
    """The differences once they are exactly the listed ones, or the last seen at the
    deadline: the sentinels say both sides have settled, the deadline only covers the last
    UPDATEs still on their way to the daemons' tables."""
    listed = listed_differences()
    last: list[list[Difference]] = [[]]

    def as_listed() -> bool:
        last[0] = _differences(runs)
        return not unlisted(last[0], listed) and not stale(last[0], listed)

    try:
        wait_for(as_listed, 15, "the differences to be the listed ones")
    except AssertionError as exc:
        if "timed out" not in str(exc):  # a table that is wrong in itself, not a difference
            raise
    return last[0]


def test_every_client_gets_the_same_routes_from_ixrs_and_bird(
        differences: list[Difference]) -> None:
    extra = unlisted(differences, listed_differences())
    assert not extra, ("differences from the reference BIRD that docs/differences.md does not "
                       "list:\n" + "\n".join(f"  {d}" for d in extra))


def test_every_listed_difference_still_occurs(differences: list[Difference]) -> None:
    gone = stale(differences, listed_differences())
    assert not gone, ("docs/differences.md lists differences that no longer occur:\n"
                      + "\n".join(f"  {e.client} {e.prefix} {e.field}" for e in gone))


def test_no_client_holds_a_filtered_route_from_either_server(runs: Runs) -> None:
    rejected = {r.prefix for _who, r in REJECTED}
    for side in (runs.ixrs, runs.bird):
        for name, table in side.tables().items():
            assert not rejected & set(table), (side.name, name, rejected & set(table))


def test_the_scenario_exercises_what_it_claims(runs: Runs) -> None:
    """Guards against a comparison of two empty or trivial tables: both sides hold the
    routes that must pass, and a few decisions are spelled out at the daemons."""
    withdrawn = {(who, change) for who, change in CHANGES if isinstance(change, str)}
    passing = {r.prefix for who, r in ROUTES if (who, r.prefix) not in withdrawn}
    assert len(ROUTES) + len(DISPUTED) + len(REJECTED) >= 40
    for side in (runs.ixrs, runs.bird):
        tables = side.tables()
        held = set().union(*(set(t) for t in tables.values()))
        missing = passing - held - {"185.60.10.0/24", "185.60.11.0/24", "2a0c:9a60:3::/48"}
        assert not missing, (side.name, missing)
        # shortest AS_PATH; MED not compared across neighbour ASes; GRACEFUL_SHUTDOWN
        assert tables["b"]["185.74.1.0/24"].as_path == (A_AS, 3333), side.name
        assert tables["b"]["185.74.3.0/24"].as_path == (A_AS, 3333), side.name
        assert tables["b"]["185.74.5.0/24"].as_path == (D_AS, 4444, 3333), side.name
        # within one neighbour AS: lowest MED, then router id; a missing MED is 0
        assert [tables["b"][p].next_hop for p in ("185.74.11.0/24", "185.74.12.0/24",
                "185.74.13.0/24")] == ["192.0.2.7", "192.0.2.2", "192.0.2.2"], side.name
        # announce-to-peer and do-not-announce, standard and large forms
        assert set(tables["d"]) & {"185.60.1.0/24", "185.60.6.0/24"} == {"185.60.6.0/24"}
        assert "185.60.2.0/24" not in tables["c"] and "185.60.7.0/24" in tables["c"]
        # after CHANGES: the next best, control communities changed, withdrawn everywhere
        assert tables["c"]["185.75.1.0/24"].as_path == (B_AS, 8283, 3333), side.name
        assert "185.75.2.0/24" in tables["d"] and "185.75.2.0/24" not in tables["e"]
        assert tables["b"]["185.75.3.0/24"].as_path == (A_AS, 3333), side.name
        assert "185.75.4.0/24" in tables["b"] and "185.75.4.0/24" not in tables["d"]
        assert tables["a"]["185.75.5.0/24"].as_path == (C_AS, 212232), side.name
        assert tables["b"]["2a0c:9a75:1::/48"].as_path == (D_AS, 4444, 3333), side.name
        assert all("185.75.6.0/24" not in t for t in tables.values()), side.name
        # blackholes: the next hop rewritten, NO_EXPORT added, none for f
        bh = tables["d"]["185.60.25.1/32"]
        assert (bh.next_hop, NO_EXPORT in bh.communities) == (BLACKHOLE_V4, True), side.name
        assert tables["c"]["2a0c:9a60:5::1/128"].next_hop == BLACKHOLE_V6, side.name
        assert "185.61.6.1/32" in tables["d"] and "185.61.6.1/32" not in tables["f"]
        # AS-SET tags: e's AS-SET holds e's route; a's own ASN is its origin
        assert tables["b"]["185.66.0.0/24"].large_communities == (IRR_OK, ORIGIN_OK), side.name
        assert tables["b"]["185.60.29.0/24"].large_communities == (ORIGIN_OK, IRR_NOT)
        assert tables["b"]["185.60.30.0/24"].large_communities == (IRR_NOT, ORIGIN_NOT)
        # prepends, and the 4-octet path at the 2-octet client, after the RS's ASN (its
        # prepend_rs_as)
        assert tables["c"]["185.60.16.0/24"].as_path == (A_AS,) * 4 + (3333,), side.name
        assert tables["e"]["185.61.4.0/24"].as_path == (RS,) + (C_AS,) * 3 + (3333,), side.name
