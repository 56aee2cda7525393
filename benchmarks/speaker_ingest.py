"""The speaker's per-prefix path on one core: raw UPDATE bytes -> decoded -> Avro events.

    .venv/bin/python benchmarks/speaker_ingest.py

Realistic UPDATEs: a few thousand attribute sets, several hundred prefixes per
attribute set (packed by the codec's own packer into as few UPDATEs as fit), AS paths
of 2-6 hops, standard and large communities. Counts everything the speaker does per
UPDATE except the Kafka round trip: framing, decoding, max-prefix bookkeeping,
partitioning, and single-object encoding of the RawUpdate and ReceivedRoutes events.
Target (issue 3): at least 250,000 prefixes/s.
"""

from __future__ import annotations

import argparse
import random
import time

from ixrs.eventlog import Stamper
from schemas import codec
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Epoch, RawUpdate, Session
from speaker.codec import Negotiated, Reader, Update, pack_announcements
from speaker.codec.decode import decode_body
from speaker.codec.header import HEADER_SIZE
from speaker.maxprefix import Limits, PrefixCounter
from speaker.publish import route_events

PUBLIC_ASNS = [3333, 8283, 12654, 13335, 15169, 20940, 24940, 32934, 39120, 196615, 212232]


def make_stream(prefix_count: int, per_set: int, ipv6: bool, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    negotiated = Negotiated()
    out = bytearray()
    made = 0
    n = 0
    while made < prefix_count:
        hops = rnd.randint(2, 6)
        attrs = Attributes(
            origin=Origin.IGP,
            as_path=(AsPathSegment(SegmentType.AS_SEQUENCE,
                                   (20002, *rnd.sample(PUBLIC_ASNS, hops - 1))),),
            next_hop="2001:db8:1::2" if ipv6 else "192.0.2.2",
            med=rnd.choice([None, 0, 50]),
            communities=tuple((20002, rnd.randint(1, 999)) for _ in range(rnd.randint(1, 4))),
            large_communities=((20002, 1, rnd.randint(1, 99)),),
        )
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


def _frames(reader: Reader, stream: bytes, chunk: int = 65536):
    # As the transport feeds it: socket reads of up to 64 KiB.
    for start in range(0, len(stream), chunk):
        reader.feed(stream[start:start + chunk])
        while (frame := reader.next_frame()) is not None:
            yield frame


def ingest(stream: bytes, partitions: int = 8) -> tuple[int, int]:
    """What the speaker does for each UPDATE, minus the socket and the broker."""
    reader = Reader()
    stamper = Stamper("speaker-bench", "v1")
    session = Session("speaker-bench", "192.0.2.2", 20002, Epoch("incarnation", 1))
    counter = PrefixCounter(Limits(0, 0, None))
    prefixes = events = 0
    for seq, frame in enumerate(_frames(reader, stream), 1):
        update = decode_body(frame[HEADER_SIZE - 1], frame[HEADER_SIZE:], reader.negotiated)
        assert isinstance(update, Update)
        announced = [p for _a, ps in update.announced() for p in ps]
        counter.apply(announced, update.withdrawals())
        codec.encode(RawUpdate(stamper.header(), session, seq, frame))
        for _partition, event in route_events(session, seq, update, stamper.header, partitions):
            codec.encode(event)
            events += 1
        prefixes += len(announced)
    return prefixes, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=300_000)
    parser.add_argument("--per-set", type=int, default=400)
    parser.add_argument("--ipv6", action="store_true")
    args = parser.parse_args()
    stream = make_stream(args.prefixes, args.per_set, args.ipv6)
    ingest(stream[: len(stream) // 20])  # warm up
    start = time.perf_counter()
    prefixes, events = ingest(stream)
    elapsed = time.perf_counter() - start
    family = "IPv6" if args.ipv6 else "IPv4"
    print(f"{family}: {prefixes:,} prefixes, {len(stream):,} bytes of UPDATEs, {events:,} events")
    print(f"ingest: {prefixes / elapsed:,.0f} prefixes/s ({elapsed:.2f} s)")


if __name__ == "__main__":
    main()
