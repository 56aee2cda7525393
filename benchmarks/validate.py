"""The pure validation core: route updates per second on one core (one prefix from one peer).

    .venv/bin/python benchmarks/validate.py

Setup, all synthetic and deterministic:
- configuration: examples/general.yml with IRR enforcement on (origin and prefix, as
  arouteserver's defaults), RPKI origin validation on, and a clients file of 40 clients,
  each with an IPv4 and an IPv6 session;
- data: ~400,000 VRPs (rpki-client JSON, parsed by processors.datasets), an AS-SET per
  client with a few thousand prefixes (bgpq4 -j JSON), arouteserver's bogons;
- traffic: batches of 300 prefixes sharing one attribute set (AS paths of 2-6 hops,
  communities), drawn from the clients' IRR lists (most pass, some are RPKI invalid, some
  too long or not registered), IPv4 and IPv6.

It times `validate()` alone: no events, no Kafka.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from ixrs.config import load_config
from processors.datasets import irr_sets_from_files, parse_vrps
from processors.validate import ImportPolicy, PolicyData, validate
from processors.validate.client import ClientPolicy
from schemas.attributes import AsPathSegment, Attributes, SegmentType

ROOT = Path(__file__).resolve().parent.parent
TRANSIT = [3333, 8283, 12654, 13335, 15169, 20940, 24940, 32934, 39120, 196615, 212232]


def _config(workdir: Path, clients: int) -> ImportPolicy:
    general = yaml.safe_load((ROOT / "examples/general.yml").read_text())
    irrdb = general["cfg"]["filtering"]["irrdb"]
    irrdb.update(enforce_origin_in_as_set=True, enforce_prefix_in_as_set=True)
    entries = []
    for i in range(clients):
        asn = 20000 + 7 * i if i % 5 else 196600 + i  # some 4-byte ASNs
        entries.append(
            {
                "asn": asn,
                "ip": [f"192.0.2.{10 + i}", f"2001:db8:1::{10 + i:x}"],
                "cfg": {"filtering": {"irrdb": {"as_sets": [f"AS-BENCH{i}"]}}},
            }
        )
    (workdir / "general.yml").write_text(yaml.safe_dump(general))
    (workdir / "clients.yml").write_text(yaml.safe_dump({"clients": entries}))
    return ImportPolicy(load_config(str(workdir / "general.yml"), str(workdir / "clients.yml")))


def _v4(rnd: random.Random, length: int) -> str:
    first = rnd.choice([n for n in range(1, 224) if n not in (10, 100, 127, 169, 172, 192, 198)])
    value = (first << 24 | rnd.getrandbits(24)) >> (32 - length) << (32 - length)
    return str(ipaddress.IPv4Network((value, length)))


def _v6(rnd: random.Random, length: int, anywhere: bool = False) -> str:
    """Within 2a00::/16 (the clients' space), or `anywhere` in 2000::/3."""
    value = 1 << 125 | rnd.getrandbits(125) if anywhere else 0x2A00 << 112 | rnd.getrandbits(112)
    value = value >> (128 - length) << (128 - length)
    return str(ipaddress.IPv6Network((value, length)))


def _irr_files(rnd: random.Random, policy: ImportPolicy, per_client: int) -> dict[str, dict]:
    """{AS-SET: {"asns": [...], "v4": {origin: [...]}, "v6": {origin: [...]}}} per client:
    each registered prefix has one origin among the AS-SET's members."""
    lists = {}
    for i, client in enumerate(c for c in policy.config.clients if c.ip_version == 4):
        members = [client.asn, *rnd.sample(TRANSIT, 4)]
        v4 = {_v4(rnd, rnd.choice([20, 22, 23, 24, 24, 24])) for _ in range(per_client)}
        v6 = {_v6(rnd, rnd.choice([32, 36, 48, 48])) for _ in range(per_client // 6)}
        lists[f"AS-BENCH{i}"] = {
            "asns": members,
            "v4": _by_origin(rnd, members, v4),
            "v6": _by_origin(rnd, members, v6),
        }
    return lists


def _by_origin(rnd: random.Random, members: list[int], prefixes: set[str]) -> dict[int, list]:
    out: dict[int, list[str]] = {asn: [] for asn in members}
    for prefix in sorted(prefixes):
        out[rnd.choice(members)].append(prefix)
    return out


def _files(lists: dict[str, dict]) -> dict[str, str]:
    files = {}
    for name, data in lists.items():
        files[f"{name}.asns.json"] = json.dumps({"NN": data["asns"]})
        for family in ("v4", "v6"):
            prefixes = sorted(p for ps in data[family].values() for p in ps)
            entries = [{"prefix": p, "exact": True} for p in prefixes]
            files[f"{name}.{family}.json"] = json.dumps({"NN": entries})
    return files


def _vrps(rnd: random.Random, lists: dict[str, dict], total: int) -> str:
    roas = []
    for data in lists.values():  # most registered prefixes have a ROA of their origin
        for origin, prefixes in (*data["v4"].items(), *data["v6"].items()):
            for prefix in prefixes:
                if rnd.random() < 0.6:
                    length = int(prefix.split("/")[1])
                    roas.append(
                        {"asn": f"AS{origin}", "prefix": prefix, "maxLength": length, "ta": "ripe"}
                    )
    # The rest as in the real table: mostly /24 and /48, few short prefixes.
    v4_lengths = [24] * 12 + [23, 23, 22, 22, 22, 21, 20]
    v6_lengths = [48] * 8 + [32, 32, 36, 40, 44, 29]
    while len(roas) < total:
        v6 = rnd.random() < 0.25
        length = rnd.choice(v6_lengths) if v6 else rnd.choice(v4_lengths)
        prefix = _v6(rnd, length, anywhere=True) if v6 else _v4(rnd, length)
        roas.append(
            {
                "asn": rnd.randint(1000, 400000),
                "prefix": prefix,
                "maxLength": length + rnd.choice([0, 0, 2]),
                "ta": "arin",
            }
        )
    return json.dumps({"roas": roas})


Batch = tuple[ClientPolicy, Attributes, tuple[str, ...]]


def _batches(
    rnd: random.Random, policy: ImportPolicy, lists: dict[str, dict], count: int, size: int
) -> list[Batch]:
    """Mostly good routes; 1 in 20 batches from an origin outside the AS-SET (rejected
    by IRR, RPKI invalid where a ROA covers the prefix)."""
    sessions = [(c, lists[c.settings.filtering.irrdb.as_sets[0]]) for c in policy.config.clients]
    out = []
    for _ in range(count):
        client, data = rnd.choice(sessions)
        by_origin = data["v4" if client.ip_version == 4 else "v6"]
        registered = rnd.choice(data["asns"])
        origin = registered if rnd.random() < 0.95 else rnd.randint(1000, 400000)
        hops = rnd.sample(TRANSIT, rnd.randint(0, 4))
        path = (client.asn, *[h for h in hops if h not in (origin, client.asn)], origin)
        if origin == client.asn:
            path = (client.asn,) * rnd.randint(1, 3)
        attrs = Attributes(
            as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),),
            next_hop=client.ip,
            med=rnd.choice([None, 0, 100]),
            communities=tuple((client.asn & 0xFFFF, rnd.randint(1, 999)) for _ in range(3)),
            large_communities=((59900, 0, 3333),) if rnd.random() < 0.1 else (),
        )
        pool = by_origin[registered]
        prefixes = tuple(rnd.sample(pool, min(size, len(pool))))
        out.append((policy.for_peer(client.ip), attrs, prefixes))  # type: ignore[arg-type]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--vrps", type=int, default=400_000)
    parser.add_argument("--irr-prefixes", type=int, default=3000, help="per client (IPv4)")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as workdir:
        policy = _config(Path(workdir), args.clients)
    lists = _irr_files(rnd, policy, args.irr_prefixes)
    vrp_json, irr_files = _vrps(rnd, lists, args.vrps), _files(lists)
    start = time.perf_counter()
    vrps = parse_vrps(vrp_json, "synthetic")
    irr = irr_sets_from_files(irr_files)
    loaded = time.perf_counter() - start
    data = PolicyData(vrps=vrps).with_irr(irr.values())
    batches = _batches(rnd, policy, lists, args.batches, args.batch_size)
    for client, attrs, prefixes in batches:  # warm up: merged IRR lists, compiled clients
        validate(client, attrs, prefixes[:1], data)
    per_round = sum(len(prefixes) for _, _, prefixes in batches)
    wall, cpu = [], []
    for _ in range(args.rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        results = [validate(client, attrs, prefixes, data) for client, attrs, prefixes in batches]
        wall.append(per_round / (time.perf_counter() - start))
        cpu.append(per_round / (time.process_time() - start_cpu))
    reasons: Counter[str] = Counter()
    for group in (g for groups in results for g in groups):
        reasons.update({r.name: len(group.prefixes) for r in group.reasons})
        reasons["(rejected)"] += 0 if group.accepted else len(group.prefixes)
    print(
        f"clients: {len(policy.config.clients)} sessions, VRPs: {len(vrps):,}, "
        f"IRR prefixes: {sum(len(s.prefixes) for s in irr.values()):,} in {len(irr)} sets "
        f"(parsed and indexed in {loaded:.1f} s)"
    )
    print(f"batches: {args.batches} of up to {args.batch_size} prefixes ({per_round:,} updates)")
    print("outcomes: " + ", ".join(f"{k} {n / per_round:.1%}" for k, n in reasons.most_common()))
    print(
        f"validate: {max(wall):,.0f} route updates/s on one core (best of {args.rounds} rounds; "
        f"median {statistics.median(wall):,.0f}; by CPU time {max(cpu):,.0f})"
    )


if __name__ == "__main__":
    main()
