"""The speaker's outbound core: decisions per second, full tables, Adj-RIB-Out memory.

    .venv/bin/python benchmarks/outbound.py
    .venv/bin/python benchmarks/outbound.py --prefixes 100000 --clients 50 --custom 5

A route server with `--clients` sessions, all up before the routes arrive, of which
`--custom` have a policy of their own (prepend_rs_as, blackholes refused, an RTBH community
of their own) and one in ten speaks 2-octet AS (AS_TRANS and AS4_PATH): four update groups.
Routes come as UPDATEs of 10 prefixes sharing one attribute set; a prefix has 1 to 3
candidates, one route in five carries control communities (do-not-announce to a peer,
prepends, NO_EXPORT towards a peer), one in ten crosses another client's AS. Decisions are
made with the real decision process (processors/views.py) beforehand, each with its own
copy of the attributes, as Avro decoding gives them; they are applied in batches of
`--batch`, and every client's queue is emptied after each batch, as a transport would.

`--shape convergence` is instead the export side of the convergence benchmark
(benchmarks/convergence): `--peers` injectors of `--per-peer` prefixes each (the full-table
generator's attribute sets) and a monitor, all three clients of one update group; every
decision is encoded as the worker writes it (a Decisions record per input event and
partition, prefixes sorted, one decision per candidate set), then timed as the speaker
spends it: decoding and expanding (the decisions thread), `Outbound.apply` per 5,000 and
`take` (the loop), and one `SentUpdate` encoded per message written (`Speaker.record_sent`).

Figures (CPU seconds: the machine is shared):
- load: every prefix's first decision, each client told its new routes;
- churn: a member re-announces 10 of its prefixes with a new MED, or withdraws them;
- full table: one more session of an existing group, and one with exceptions;
- memory: what the Adj-RIB-Out adds to the decision table (tracemalloc), against what a
  per-client table (one dict entry per prefix and client) would take.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ixrs.eventlog import SingleObjectFraming
from ixrs.heap import tune_for_growing_state
from processors.export import ExportPolicy
from processors.views import decide_routes
from schemas import codec
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.decisions import batched, expand, fitted
from schemas.events import (
    ClientOutcome,
    Decision,
    Epoch,
    EventHeader,
    Position,
    Route,
    SentUpdate,
    Session,
)
from speaker.codec import IPV4_UNICAST, IPV6_UNICAST, Negotiated
from speaker.decisions import event_reader
from speaker.outbound import Outbound
from speaker.outbound.table import DecisionTable

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # benchmarks.convergence
from decide import build_config  # the same clients as the decision benchmark

DOWNSTREAM = [*range(21000, 21200), *range(196700, 196800)]
PER_UPDATE = 10
BOTH = frozenset({IPV4_UNICAST, IPV6_UNICAST})
HEADER = EventHeader("worker-1", 0, 0)


def control_tags(rnd: random.Random, rs_as: int, asns: list[int]) -> dict[str, Any]:
    roll, target = rnd.random(), rnd.choice(asns)
    if roll < 0.05:
        return {"large_communities": ((rs_as, 0, target),)}  # do not announce to a peer
    if roll < 0.10:
        return {"large_communities": ((rs_as, rnd.randint(101, 103), target),)}  # prepend
    if roll < 0.15:
        return {"communities": ((65501, rs_as),)}  # prepend once to any
    if roll < 0.20:
        return {"large_communities": ((rs_as, 901, target),)}  # NO_EXPORT towards a peer
    return {}


def make_route(rnd: random.Random, owner: Any, rs_as: int, asns: list[int], med: Any) -> Route:
    path = (owner.asn, *rnd.sample(DOWNSTREAM, rnd.randint(1, 5)))
    if rnd.random() < 0.1:
        path = (owner.asn, rnd.choice(asns), *path[1:])
    tags = control_tags(rnd, rs_as, asns)
    attrs = Attributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),),
        next_hop=owner.ip,
        med=med,
        communities=((owner.asn & 0xFFFF, rnd.randint(1, 999)), *tags.get("communities", ())),
        large_communities=((owner.asn, 1, rnd.randint(1, 99)), *tags.get("large_communities", ())),
    )
    session = Session("speaker-1", owner.ip, owner.asn, Epoch("incarnation-1", 1))
    return Route(session, attrs, owner.ip)


class Workload:
    """The decisions of the load and churn phases, made once."""

    def __init__(self, prefixes: int, clients: int, custom: int, churn: int, seed: int = 1):
        rnd = random.Random(seed)
        config = build_config(clients, custom)
        self.policy = ExportPolicy.from_config(config)
        self.config = config
        rs_as = config.general.rs_as
        asns = [c.asn for c in config.clients]
        names = [f"{10 + n // 65536}.{n // 256 % 256}.{n % 256}.0/24" for n in range(prefixes)]
        self.offset = 0
        # prefix -> owner address -> route; owners announce runs of PER_UPDATE prefixes
        self.candidates: dict[str, dict[str, Route]] = {p: {} for p in names}
        self.runs: list[tuple[Any, list[str]]] = []
        for start in range(0, prefixes, PER_UPDATE):
            run = names[start : start + PER_UPDATE]
            for owner in rnd.sample(config.clients, rnd.choice((1, 1, 1, 2, 3))):
                route = make_route(rnd, owner, rs_as, asns, rnd.choice((None, 0, 100)))
                for prefix in run:
                    self.candidates[prefix][owner.ip] = route
                self.runs.append((owner, run))
        self.load = [self.decide(p) for p in names]
        self.churn: list[Decision] = []
        while len(self.churn) < churn:
            owner, run = rnd.choice(self.runs)
            if rnd.random() < 0.1:
                for prefix in run:
                    self.candidates[prefix].pop(owner.ip, None)
            else:
                route = make_route(rnd, owner, rs_as, asns, rnd.randint(0, 1000))
                for prefix in run:
                    self.candidates[prefix][owner.ip] = route
            self.churn += [self.decide(p) for p in run]

    def decide(self, prefix: str) -> Decision:
        self.offset += 1
        position = Position("ixrs.routes", 0, self.offset)
        routes = list(self.candidates[prefix].values())
        made = decide_routes(prefix, routes, self.policy)
        event = made.to_event(HEADER, f"{position.event_id()}/{prefix}", position)
        return _copied(event)


def _copied(decision: Decision) -> Decision:
    """The decision with attribute objects of its own, as each Avro record decodes to."""

    def copy(route: Route | None) -> Route | None:
        return None if route is None else replace(route, attributes=replace(route.attributes))

    outcomes = tuple(replace(o, route=copy(o.route)) for o in decision.outcomes)
    return replace(decision, best=copy(decision.best), outcomes=outcomes)


def negotiated_for(n: int) -> Negotiated:
    return Negotiated(four_octet_as=n % 10 != 0, families=BOTH, route_refresh=True)


def established(work: Workload) -> Outbound:
    outbound = Outbound(work.policy)
    for n, client in enumerate(work.config.clients):
        outbound.establish(client.ip, negotiated_for(n))
        outbound.take(client.ip)
    return outbound


def run(outbound: Outbound, decisions: list[Decision], batch: int) -> tuple[float, int, int]:
    """CPU seconds, messages and octets handed to the clients."""
    messages = octets = 0
    start = time.process_time()
    for i in range(0, len(decisions), batch):
        outbound.apply(decisions[i : i + batch])
        for address in outbound.clients:
            for message in outbound.take(address):
                messages += 1
                octets += len(message.raw)
    return time.process_time() - start, messages, octets


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = call()
    return time.process_time() - start, result


def traced(call: Callable[[], Any]) -> tuple[int, Any]:
    """Octets still allocated by `call` once it returned (tracemalloc)."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = call()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used, result


def convergence_decisions(peers: int, per_peer: int, seed: int = 1
                          ) -> tuple[ExportPolicy, list[str], list[bytes]]:
    """The policy, the client addresses and the encoded decisions of a convergence run."""
    import tempfile
    import uuid

    from benchmarks.convergence import scenario
    from ixrs.config import load_config
    from ixrs.topics import partition_for

    injectors = scenario.make_injectors(peers, per_peer, 1500, seed)
    with tempfile.TemporaryDirectory() as tmp:
        general, clients = scenario.write_rs_config(Path(tmp), injectors, peers * per_peer)
        config = load_config(str(general), str(clients))
    policy = ExportPolicy.from_config(config)
    incarnation = str(uuid.UUID(int=seed))
    worker = f"worker-{uuid.UUID(int=seed + 1)}"
    version = "c" * 64
    # Per injector: its UPDATEs (one attribute set each, up to 250 prefixes), read 16 at a
    # time; a read becomes one input event per routes partition, decided in prefix order.
    reads: list[list[tuple[Route, list[str]]]] = []
    for n, inj in enumerate(injectors):
        session = Session("speaker", inj.address, inj.asn, Epoch(incarnation, n + 1))
        routes = []
        for s in inj.table.sets:
            attrs = Attributes(
                origin=Origin.INCOMPLETE if s.origin == "ORIGIN_INCOMPLETE" else Origin.IGP,
                as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (inj.asn, *s.path)),),
                next_hop=inj.address, med=s.med, communities=s.communities,
                large_communities=s.large_communities)
            routes.append(Route(session, attrs, inj.address))
        by_set: dict[int, list[str]] = {}
        for prefix, index in zip(inj.table.prefixes, inj.table.set_of, strict=True):
            by_set.setdefault(index, []).append(prefix)
        updates = [(routes[i], ps[k:k + 250]) for i, ps in by_set.items()
                   for k in range(0, len(ps), 250)]
        reads.append([updates[k:k + 16] for k in range(0, len(updates), 16)])  # type: ignore[misc]
    encoded: list[bytes] = []
    offsets = [0] * 8
    seq = 0
    memo: dict[int, Any] = {}  # IPv4 only: the route's id is enough
    for batch in (r for group in zip(*reads, strict=False) for r in group):
        parts: dict[int, dict[str, Route]] = {}
        for route, prefixes in batch:  # type: ignore[misc]
            for prefix in prefixes:
                parts.setdefault(partition_for(prefix, 8), {})[prefix] = route
        for partition, chosen in sorted(parts.items()):
            position = Position("ixrs.routes", partition, offsets[partition])
            offsets[partition] += 1
            seq += 1
            header = EventHeader(worker, seq, 1_764_200_000_000_000 + seq, version)
            decisions = []
            for prefix in sorted(chosen):
                route = chosen[prefix]
                # one result per candidate set, as the worker's decision memo gives it
                made = memo.get(id(route))
                if made is None:
                    made = memo[id(route)] = decide_routes(prefix, [route], policy)
                decisions.append(Decision(header, f"{position.event_id()}/{prefix}", position,
                                          prefix, made.best, made.step, made.candidates,
                                          made.outcomes))
            encoded += [value for _part, value in fitted(batched(decisions), codec.encode)]
    return policy, [c.ip for c in config.clients], encoded


def convergence(peers: int, per_peer: int, rounds: int) -> None:
    made, (policy, addresses, encoded) = timed(lambda: convergence_decisions(peers, per_peer))
    sample = expand(codec.decode(encoded[0]))[0]
    assert isinstance(sample, Decision) and sample.outcomes and isinstance(
        sample.outcomes[0], ClientOutcome)
    print(f"convergence: {peers} x {per_peer:,} prefixes, {len(addresses)} clients; "
          f"decisions made in {made:.0f} s, {len(encoded):,} Decisions records")
    tune_for_growing_state()  # the speaker's collector settings (ixrs.heap)
    negotiated = Negotiated(four_octet_as=True, families=frozenset({IPV4_UNICAST}),
                            route_refresh=True)
    header = EventHeader("speaker-1", 0, 0)
    sessions = {a: Session("speaker", a, 1, Epoch("incarnation-1", 1)) for a in addresses}
    for _ in range(rounds):
        # A fresh decoder state each round, as in a fresh speaker: the interning tables.
        for table in codec_tables().values():
            table.clear()
        decode = event_reader(SingleObjectFraming())  # as the speaker's decisions thread
        start = time.process_time()
        decoded = [d for b in encoded for d in expand(decode(b))]
        decoding = time.process_time() - start
        outbound = Outbound(policy)
        for address in addresses:
            outbound.establish(address, negotiated)
            outbound.take(address)
        records: list[bytes] = []  # the SentUpdate records, in order, for the digest
        start = time.process_time()
        for i in range(0, len(decoded), 5000):
            outbound.apply(decoded[i:i + 5000])
            for address in addresses:
                while taken := outbound.take(address, 64 * 1024):
                    for message in taken:
                        records.append(codec.encode_body(SentUpdate(
                            header, sessions[address], message.raw, message.caused_by,
                            str(message.kind))))
        applying = time.process_time() - start
        n = len(decoded)
        digest = hashlib.sha256(b"".join(records)).hexdigest()[:16]
        print(f"  decode {decoding:5.2f} s ({decoding / n * 1e6:4.1f} µs/decision)   "
              f"apply+take+SentUpdate {applying:5.2f} s ({applying / n * 1e6:4.1f} µs/decision,"
              f" {len(records):,} messages)   total {(decoding + applying) / n * 1e6:4.1f} µs"
              f"   sent digest {digest}")


def codec_tables() -> dict[str, dict[Any, Any]]:
    from schemas import decoder

    return decoder.tables(codec._DECODERS)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("clients", "convergence"), default="clients")
    parser.add_argument("--peers", type=int, default=2)
    parser.add_argument("--per-peer", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prefixes", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--custom", type=int, default=5)
    parser.add_argument("--churn", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    if args.shape == "convergence":
        convergence(args.peers, args.per_peer, args.rounds)
        return
    made, work = timed(lambda: Workload(args.prefixes, args.clients, args.custom, args.churn))
    print(
        f"{args.prefixes:,} prefixes, {args.clients} clients ({args.custom} custom, "
        f"one in ten 2-octet AS), batches of {args.batch}; workload made in {made:.0f} s"
    )

    outbound = established(work)
    seconds, messages, octets = run(outbound, work.load, args.batch)
    footprint = outbound.footprint()
    print(
        f"load:  {len(work.load) / seconds:>9,.0f} decisions/s  ({seconds:.2f} s; "
        f"{messages:,} UPDATEs, {octets / 1e6:.1f} MB to all clients; "
        f"{footprint.groups} groups)"
    )
    seconds, messages, octets = run(outbound, work.churn, args.batch)
    print(
        f"churn: {len(work.churn) / seconds:>9,.0f} decisions/s  ({seconds:.2f} s; "
        f"{messages:,} UPDATEs, {octets / 1e6:.1f} MB)"
    )

    clients = work.config.clients
    for label, n, cold in (
        ("full table, ordinary", 1, True),
        ("again, warm group", 1, False),  # the group's packed table is reused
        ("full table, custom", len(clients) - 1, True),
    ):
        address = clients[n].ip
        outbound.drop(address)
        if cold:
            for group in outbound.groups.values():
                group.full = None
        seconds, report = timed(lambda a=address, k=n: outbound.establish(a, negotiated_for(k)))
        sent = report.output[address]
        outbound.take(address)
        print(
            f"{label + ':':<24}{seconds * 1000:>6.0f} ms  ({len(outbound.sent_to(address)):,}"
            f" routes, {len(sent):,} messages, {sum(len(m.raw) for m in sent) / 1e6:.1f} MB)"
        )

    footprint = outbound.footprint()
    table_only, _ = traced(lambda: _table(work))
    whole, kept = traced(lambda: _loaded(work, args.batch))
    ribout = whole - table_only
    naive = sys.getsizeof(dict.fromkeys(range(args.prefixes))) * args.clients
    print(
        f"memory: Adj-RIB-Out {ribout / 1e6:.1f} MB ({footprint.group_entries:,} group entries, "
        f"{footprint.exceptions:,} exceptions, {footprint.attribute_sets:,} attribute sets); "
        f"decision table {table_only / 1e6:.1f} MB; a dict per client would take "
        f"{naive / 1e6:.0f} MB for its entries alone"
    )
    del kept


def _table(work: Workload) -> DecisionTable:
    table = DecisionTable()
    for decision in work.load:
        table.apply(decision)
    return table


def _loaded(work: Workload, batch: int) -> Outbound:
    outbound = established(work)
    run(outbound, work.load, batch)
    return outbound


if __name__ == "__main__":
    main()
