"""Event encode/decode throughput, in prefixes per second, on one core.

    .venv/bin/python benchmarks/events.py

Realistic received-routes events: one per (UPDATE, partition), each carrying a
few hundred prefixes that share one attribute set (AS paths of 2-6 hops,
standard and large communities). Single-object encoding, as ixrs writes by default.
"""

from __future__ import annotations

import argparse
import random
import time

from schemas import codec
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Epoch, EventHeader, ReceivedRoutes, Session

PUBLIC_ASNS = [3333, 8283, 12654, 13335, 15169, 20940, 24940, 32934, 39120, 196615, 212232]


def make_events(count: int, per_event: int, seed: int = 1) -> list[ReceivedRoutes]:
    rnd = random.Random(seed)
    session = Session("speaker-bench", "192.0.2.11", 20002, Epoch("incarnation", 1))
    out = []
    for i in range(count):
        hops = rnd.randint(2, 6)
        path = (20002, *rnd.sample(PUBLIC_ASNS, hops - 1))
        attrs = Attributes(
            origin=Origin.IGP,
            as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),),
            next_hop="192.0.2.11",
            med=rnd.choice([None, 0, 100]),
            communities=tuple((20002, rnd.randint(1, 999)) for _ in range(rnd.randint(0, 4))),
            large_communities=((20002, 1, rnd.randint(1, 99)),),
        )
        base = rnd.randint(0, 2**22)
        prefixes = tuple(
            f"{(n >> 16) % 223 + 1}.{(n >> 8) & 255}.{n & 255}.0/24"
            for n in range(base, base + per_event)
        )
        header = EventHeader("speaker-bench", i, 1_764_170_000_000_000 + i, "v1")
        out.append(ReceivedRoutes(header, session, i, attrs, prefixes, (), ()))
    return out


def measure(events: list[ReceivedRoutes], rounds: int) -> tuple[float, float]:
    prefixes = sum(len(e.announced) for e in events) * rounds
    start = time.perf_counter()
    for _ in range(rounds):
        encoded = [codec.encode(e) for e in events]
    enc = prefixes / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(rounds):
        decoded = [codec.decode(b) for b in encoded]
    dec = prefixes / (time.perf_counter() - start)
    assert decoded == events
    return enc, dec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--per-event", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    events = make_events(args.events, args.per_event)
    measure(events[:20], 1)  # warm up
    enc, dec = measure(events, args.rounds)
    size = sum(len(codec.encode(e)) for e in events) / sum(len(e.announced) for e in events)
    print(f"prefixes per event: {args.per_event}, events: {args.events} x {args.rounds} rounds")
    print(f"encode: {enc:,.0f} prefixes/s")
    print(f"decode: {dec:,.0f} prefixes/s")
    print(f"size:   {size:.1f} bytes/prefix")


if __name__ == "__main__":
    main()
