"""How fast the codec turns raw UPDATEs into prefixes and attributes.

A plain script: ``.venv/bin/python benchmarks/codec_decode.py``. It builds
realistic UPDATE streams (one attribute set per UPDATE, AS paths of 2-6 hops,
a few standard and large communities; ~500 IPv4 prefixes or ~300 IPv6 prefixes
per UPDATE), then times framing + decoding + splitting into announced sets,
and prints prefixes per second for each family.
"""

from __future__ import annotations

import random
import time

from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from speaker.codec import MpReach, Negotiated, Reader, Update, encode

UPDATES = 400
ROUNDS = 5


def _attributes(rng: random.Random, next_hop: str | None) -> Attributes:
    hops = tuple(rng.choice((rng.randint(1, 64000), rng.randint(131072, 4_200_000_000)))
                 for _ in range(rng.randint(2, 6)))
    return Attributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, hops),),
        next_hop=next_hop,
        med=rng.choice((None, 0, 100)),
        communities=tuple((hops[0] & 0xFFFF, rng.randint(0, 65535)) for _ in range(3)),
        large_communities=((hops[0], 1, rng.randint(0, 1000)),),
    )


def _ipv4_prefixes(rng: random.Random, count: int) -> tuple[str, ...]:
    out = set()
    while len(out) < count:
        length = rng.choice((24, 24, 24, 23, 22, 20, 19, 16))
        net = rng.getrandbits(32) >> (32 - length) << (32 - length)
        out.add(f"{net >> 24}.{net >> 16 & 255}.{net >> 8 & 255}.{net & 255}/{length}")
    return tuple(sorted(out))


def _ipv6_prefixes(rng: random.Random, count: int) -> tuple[str, ...]:
    out = set()
    while len(out) < count:
        length = rng.choice((48, 48, 48, 44, 40, 32, 29))
        net = (0x2000 << 112 | rng.getrandbits(125)) >> (128 - length) << (128 - length)
        groups = [f"{net >> (112 - 16 * i) & 0xFFFF:x}" for i in range(8)]
        out.add(f"{':'.join(groups[:3])}::/{length}")  # every length here is <= 48
    return tuple(sorted(out))


def ipv4_stream(rng: random.Random, negotiated: Negotiated) -> tuple[bytes, int]:
    updates = [
        Update(attributes=_attributes(rng, "192.0.2.1"), nlri=_ipv4_prefixes(rng, 500))
        for _ in range(UPDATES)
    ]
    return b"".join(encode(u, negotiated) for u in updates), sum(len(u.nlri) for u in updates)


def ipv6_stream(rng: random.Random, negotiated: Negotiated) -> tuple[bytes, int]:
    updates = [
        Update(
            attributes=_attributes(rng, None),
            mp_reach=MpReach(2, 1, "2001:db8::1", "fe80::1", _ipv6_prefixes(rng, 300)),
        )
        for _ in range(UPDATES)
    ]
    count = sum(len(u.mp_reach.nlri) for u in updates if u.mp_reach)
    return b"".join(encode(u, negotiated) for u in updates), count


def run(stream: bytes, negotiated: Negotiated) -> int:
    """Frame, decode and split one stream; the number of prefixes seen."""
    reader = Reader(negotiated)
    reader.feed(stream)
    seen = 0
    for message in reader:
        assert isinstance(message, Update) and not message.treat_as_withdraw
        for _attrs, prefixes in message.announced():
            seen += len(prefixes)
    return seen


def measure(name: str, stream: bytes, expected: int, negotiated: Negotiated) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        seen = run(stream, negotiated)
        best = min(best, time.perf_counter() - start)
        assert seen == expected, (seen, expected)
    rate = expected / best
    print(f"{name}: {expected} prefixes in {UPDATES} UPDATEs, {best * 1000:.1f} ms, "
          f"{rate:,.0f} prefixes/s")
    return rate


def main() -> None:
    rng = random.Random(7)
    negotiated = Negotiated(four_octet_as=True)
    measure("IPv4", *ipv4_stream(rng, negotiated), negotiated)
    measure("IPv6", *ipv6_stream(rng, negotiated), negotiated)
    two_octet = Negotiated(four_octet_as=False)
    measure("IPv4, 2-octet AS session", *ipv4_stream(rng, two_octet), two_octet)


if __name__ == "__main__":
    main()
