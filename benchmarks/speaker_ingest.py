"""The speaker's per-prefix path on one core: raw UPDATE bytes -> decoded -> Avro events.

    .venv/bin/python benchmarks/speaker_ingest.py

Realistic UPDATEs: a few thousand attribute sets, several hundred prefixes per
attribute set (packed by the codec's own packer into as few UPDATEs as fit), AS paths
of 2-6 hops, standard and large communities. Counts everything the speaker does per
UPDATE except the Kafka round trip, as `Speaker.update_received` and
`Speaker.publish_received` do it per socket read of 64 KiB: framing, decoding, max-prefix
bookkeeping, partitioning, and single-object encoding of one RawUpdates event and one
ReceivedUpdates per routes partition. Target (issue 3): at least 250,000 prefixes/s.
CPU seconds are printed as well: the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time

from ixrs.eventlog import Stamper
from schemas import codec
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Epoch, EventHeader, RawUpdates, Session
from speaker.codec import Negotiated, Reader, Update, pack_announcements
from speaker.codec.decode import decode_body
from speaker.codec.header import HEADER_SIZE
from speaker.maxprefix import Limits, PrefixCounter
from speaker.publish import received_events

PUBLIC_ASNS = [3333, 8283, 12654, 13335, 15169, 20940, 24940, 32934, 39120, 196615, 212232]


def make_stream(prefix_count: int, per_set: int, ipv6: bool, seed: int = 1,
                sets: int = 0) -> bytes:
    """UPDATEs of `per_set` prefixes each, with a new attribute set per UPDATE, or one of a
    pool of `sets` (a table's UPDATEs repeat its few thousand attribute sets)."""
    rnd = random.Random(seed)
    negotiated = Negotiated()
    out = bytearray()
    made = 0
    n = 0
    pool = [_attributes(rnd, ipv6) for _ in range(sets)]
    while made < prefix_count:
        attrs = rnd.choice(pool) if pool else _attributes(rnd, ipv6)
        count = min(per_set, prefix_count - made)
        if ipv6:
            prefixes = [f"2a0c:{(n + i) >> 16 & 0xFFFF:x}:{(n + i) & 0xFFFF:x}::/48"
                        for i in range(count)]
        else:
            prefixes = [f"{((n + i) >> 16) % 200 + 1}.{(n + i) >> 8 & 255}.{(n + i) & 255}.0/24"
                        for i in range(count)]
        n += count
        made += count
        for message in pack_announcements(attrs, prefixes, negotiated):
            out += message
    return bytes(out)


def _attributes(rnd: random.Random, ipv6: bool) -> Attributes:
    hops = rnd.randint(2, 6)
    return Attributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE,
                               (20002, *rnd.sample(PUBLIC_ASNS, hops - 1))),),
        next_hop="2001:db8:1::2" if ipv6 else "192.0.2.2",
        med=rnd.choice([None, 0, 50]),
        communities=tuple((20002, rnd.randint(1, 999)) for _ in range(rnd.randint(1, 4))),
        large_communities=((20002, 1, rnd.randint(1, 99)),),
    )


def ingest(stream: bytes, partitions: int = 8, chunk: int = 65536,
           written: list[bytes] | None = None) -> tuple[int, int]:
    """What the speaker does for each socket read, minus the socket and the broker; the
    events' bytes are appended to `written` if given, with fixed headers."""
    reader = Reader()
    stamper = Stamper("speaker-bench", "v1")
    header = stamper.header if written is None else lambda: EventHeader("speaker-bench", 0, 0)
    session = Session("speaker-bench", "192.0.2.2", 20002, Epoch("incarnation", 1))
    counter = PrefixCounter(Limits(0, 0, None))
    prefixes = events = seq = 0
    for start in range(0, len(stream), chunk):  # as the transport feeds it
        reader.feed(stream[start:start + chunk])
        pending: list[tuple[int, Update, bytes]] = []
        while (frame := reader.next_frame()) is not None:
            update = decode_body(frame[HEADER_SIZE - 1], frame[HEADER_SIZE:],
                                 reader.negotiated)
            assert isinstance(update, Update)
            seq += 1
            announced = [p for _a, ps in update.announced() for p in ps]
            counter.apply(announced, update.withdrawals())
            pending.append((seq, update, frame))
            prefixes += len(announced)
        if not pending:
            continue
        raw_updates = codec.encode(RawUpdates(header(), session, pending[0][0],
                                              tuple(raw for _s, _u, raw in pending)))
        numbered = [(s, u) for s, u, _raw in pending]
        for _partition, event in received_events(session, numbered, header, partitions):
            encoded = codec.encode(event)
            events += 1
            if written is not None:
                written.append(encoded)
        if written is not None:
            written.append(raw_updates)
    return prefixes, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=300_000)
    parser.add_argument("--per-set", type=int, default=400)
    parser.add_argument("--ipv6", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sets", type=int, default=0,
                        help="a pool of this many attribute sets (default: one per UPDATE)")
    args = parser.parse_args()
    stream = make_stream(args.prefixes, args.per_set, args.ipv6, sets=args.sets)
    ingest(stream[: len(stream) // 20])  # warm up
    family = "IPv6" if args.ipv6 else "IPv4"
    written: list[bytes] = []
    ingest(stream, written=written)
    print(f"events digest {hashlib.sha256(b''.join(written)).hexdigest()[:16]}")
    for _ in range(args.rounds):
        start, cpu = time.perf_counter(), time.process_time()
        prefixes, events = ingest(stream)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"{family}: {prefixes:,} prefixes, {len(stream):,} bytes of UPDATEs, "
              f"{events:,} events")
        print(f"ingest: {prefixes / elapsed:,.0f} prefixes/s ({elapsed:.2f} s; "
              f"{cpu:.2f} s CPU, {cpu / prefixes * 1e6:.2f} µs CPU per prefix)")


if __name__ == "__main__":
    main()
