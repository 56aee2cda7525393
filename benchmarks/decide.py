"""The pure decision core, in prefix updates per second on one core.

    .venv/bin/python benchmarks/decide.py

One unit is one prefix from one peer: a new route replaces one of the prefix's candidates and
the prefix is decided again, with its per-client deltas (views.decide_prefix). Reading the new
route against the export policy (ExportPolicy.analyze) depends on its attributes only, so it is
done once per UPDATE: the table shows UPDATEs of 1 prefix (every unit pays for it) and of 10.

10 candidates per prefix; clients as in the table, of which 5 have a custom policy (they refuse
blackholes, and have prepend_rs_as and an RTBH community of their own).
Routes are realistic: AS paths of 2-6 hops through the clients' customers, one in ten also
through another client (which then may not receive it), MED on some, one in five tagged with
control communities (do-not-announce to a client, announce-to-peer overrides, prepends,
NO_EXPORT towards a peer); one in a hundred is a blackhole.

Columns: updates per CPU second (CPU time, since the development machine is shared) with 1 and
with 10 prefixes per UPDATE; microseconds per update with 10; the mean number of per-client
deltas per decision; and `brute force`, the same work done the naive way (one decision per
client and prefix, 1 prefix per UPDATE), for comparison.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ixrs.config import RouteServerConfig
from ixrs.config.clients import parse_clients
from ixrs.config.general import parse_general
from ixrs.config.yamlfile import load_yaml
from processors.decide import decide
from processors.export import ExportPolicy, Offer, may_receive
from processors.views import decide_prefix
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Epoch, Route, Session

CANDIDATES = 10
WIDTHS = (7, 15, 18, 9, 6, 11)
CUSTOM = 5
PUBLIC = [3333, 8283, 12654, 13335, 15169, 20002, 20940, 24940, 32934, 39120, 196615, 212232]
# Customers behind the clients: public-looking ASNs that are not clients.
DOWNSTREAM = [*range(21000, 21200), *range(196700, 196800)]
MEMBER_IN_PATH = 0.1  # share of routes whose path also crosses another client
GENERAL = str(Path(__file__).resolve().parents[1] / "examples" / "general.yml")


def build_config(clients: int, custom: int = CUSTOM) -> RouteServerConfig:
    """`clients` clients with public-looking ASNs, the last `custom` with a policy of their
    own (prepend_rs_as, blackholes refused, an RTBH community of their own). Shared with
    benchmarks/outbound.py."""
    general = parse_general(load_yaml(GENERAL), GENERAL)
    entries: list[dict[str, Any]] = []
    for n in range(clients):
        asn = PUBLIC[n] if n < len(PUBLIC) else 30000 + n
        entry: dict[str, Any] = {"asn": asn, "ip": f"192.0.{2 + n // 250}.{n % 250 + 2}"}
        if n >= clients - custom:
            entry["cfg"] = {
                "prepend_rs_as": True,
                "blackhole_filtering": {
                    "announce_to_client": False,
                    "client_community": {"std": "65535:666", "action": "add"},
                },
            }
        entries.append(entry)
    asns, parsed = parse_clients({"clients": entries}, "clients.yml", general)
    return RouteServerConfig.build(general, asns, parsed)


def control_tags(rnd: random.Random, rs_as: int, asns: list[int]) -> dict[str, Any]:
    roll = rnd.random()
    target = rnd.choice(asns)
    if roll < 0.01:
        return {"communities": ((65535, 666),)}
    if roll < 0.05:
        return {"large_communities": ((rs_as, 0, target),)}  # do not announce to a peer
    if roll < 0.08:
        return {"communities": ((0, rs_as), (rs_as, target & 0xFFFF))}  # only to a peer
    if roll < 0.12:
        return {"large_communities": ((rs_as, rnd.randint(101, 103), target),)}
    if roll < 0.16:
        return {"communities": ((65501, rs_as),)}  # prepend once to any
    if roll < 0.20:
        return {"large_communities": ((rs_as, 901, target),)}  # NO_EXPORT towards a peer
    return {}


def make_route(rnd: random.Random, owner: Any, rs_as: int, asns: list[int]) -> Route:
    hops = rnd.randint(2, 6)
    path = (owner.asn, *rnd.sample(DOWNSTREAM, hops - 1))
    if rnd.random() < MEMBER_IN_PATH:
        path = (owner.asn, rnd.choice(asns), *path[1:-1])
    tags = control_tags(rnd, rs_as, asns)
    attrs = Attributes(
        origin=Origin.IGP if rnd.random() < 0.9 else Origin.INCOMPLETE,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),),
        next_hop=owner.ip,
        med=rnd.choice([None, None, 0, 100]),
        communities=((owner.asn & 0xFFFF, rnd.randint(1, 999)), *tags.get("communities", ())),
        large_communities=(
            (owner.asn, 1, rnd.randint(1, 99)),
            *tags.get("large_communities", ()),
        ),
    )
    session = Session("speaker-1", owner.ip, owner.asn, Epoch("incarnation-1", 1))
    return Route(session, attrs, owner.ip)


class Workload:
    """Prefixes with their current candidates, and a stream of UPDATEs: each is one peer's
    new route (one attribute set) for `batch` of the prefixes it is a candidate for."""

    def __init__(self, clients: int, prefixes: int, updates: int, batch: int, seed: int = 1):
        rnd = random.Random(seed)
        config = build_config(clients)
        self.policy = ExportPolicy.from_config(config)
        rs_as = config.general.rs_as
        asns = [c.asn for c in config.clients]
        names = [f"185.{50 + n // 256}.{n % 256}.0/24" for n in range(prefixes)]
        owners = {p: rnd.sample(config.clients, CANDIDATES) for p in names}
        self.tables: dict[str, dict[str, Offer]] = {
            p: {c.ip: self.policy.analyze(make_route(rnd, c, rs_as, asns)) for c in owners[p]}
            for p in names
        }
        owned: dict[str, list[str]] = {}
        for p, clients_of_p in owners.items():
            for c in clients_of_p:
                owned.setdefault(c.ip, []).append(p)
        self.stream = []
        for _ in range(updates // batch):
            owner = rnd.choice(config.clients)
            chosen = rnd.sample(owned[owner.ip], min(batch, len(owned[owner.ip])))
            self.stream.append((owner.ip, make_route(rnd, owner, rs_as, asns), chosen))
        self.units = sum(len(chosen) for _, _, chosen in self.stream)


def run_decomposed(work: Workload) -> tuple[float, float]:
    """Seconds for the stream, and the mean number of deltas per decision."""
    policy, tables, deltas = work.policy, work.tables, 0
    start = time.process_time()
    for ip, route, prefixes in work.stream:
        offer = policy.analyze(route)  # once per UPDATE: it depends on the attributes only
        for prefix in prefixes:
            table = tables[prefix]
            table[ip] = offer
            deltas += len(decide_prefix(prefix, table, policy).outcomes)
    return time.process_time() - start, deltas / work.units


def run_brute_force(work: Workload) -> float:
    """Seconds for the stream, one decision per client and prefix."""
    policy, tables = work.policy, work.tables
    start = time.process_time()
    for ip, route, prefixes in work.stream:
        offer = policy.analyze(route)
        for prefix in prefixes:
            table = tables[prefix]
            table[ip] = offer
            for peer in policy.peers:
                decide(o for o in table.values() if may_receive(peer, o, 4))
    return time.process_time() - start


def best_rate(work: Workload, run: Callable[[Workload], Any], repeat: int) -> float:
    """Units per CPU second of the fastest of `repeat` runs (CPU time: the machine is shared)."""
    times = []
    for _ in range(repeat):
        result = run(work)
        times.append(result[0] if isinstance(result, tuple) else result)
    return work.units / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--clients", default="10,20,50,100,200,300")
    parser.add_argument("--brute-updates", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{CANDIDATES} candidates per prefix, {CUSTOM} clients with a custom policy; "
        f"prefix updates per CPU second on one core, best of {args.repeat}"
    )
    columns = (
        "clients",
        "1 prefix/UPDATE",
        "10 prefixes/UPDATE",
        "us/update",
        "deltas",
        "brute force",
    )
    print(" | ".join(f"{c:>{w}}" for c, w in zip(columns, WIDTHS, strict=True)))
    print("-|-".join("-" * w for w in WIDTHS))
    for clients in (int(n) for n in args.clients.split(",")):
        single = Workload(clients, args.prefixes, args.updates, batch=1)
        one = best_rate(single, run_decomposed, args.repeat)
        _, deltas = run_decomposed(single)
        batched = Workload(clients, args.prefixes, args.updates, batch=10)
        ten = best_rate(batched, run_decomposed, args.repeat)
        brute = best_rate(
            Workload(clients, args.prefixes, args.brute_updates, batch=1), run_brute_force, 1
        )
        values = (
            f"{clients}",
            f"{one:,.0f}",
            f"{ten:,.0f}",
            f"{1e6 / ten:.1f}",
            f"{deltas:.2f}",
            f"{brute:,.0f}",
        )
        print(" | ".join(f"{v:>{w}}" for v, w in zip(values, WIDTHS, strict=True)))


if __name__ == "__main__":
    main()
