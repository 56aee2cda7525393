"""A synthetic, realistic-looking IPv4 full table, and the BIRD configuration announcing it.

Prefixes are public-looking: distinct networks of mixed lengths (about 60 % /24) whose first
octet is outside every bogon /8 and never 100, 169, 172, 192, 198 or 203, so no prefix falls
in or covers 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24,
192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24 or 224/3.

Attribute sets: a few thousand, with AS paths of 2-6 hops once BIRD has prepended its own
ASN, public-looking ASNs (2- and 4-octet; no private, documentation, reserved, AS_TRANS or
transit-free ones), 0-4 standard and 0-2 large communities, a MED on some, ORIGIN mostly
IGP. Prefixes are spread over the sets with a skew (a few sets carry many prefixes).

BIRD gets one ``protocol static`` per attribute set, whose import filter sets the
attributes; every route line is a bare ``route P blackhole;``. This loads far faster than
one filter block per route. The BGP session starts disabled, to be enabled with birdc once
every static route is in the table.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from pathlib import Path

# First octets that are neither bogons nor hold a bogon /16-/24 (see the module doc).
_FIRST_OCTETS = [o for o in range(1, 224)
                 if o not in (10, 100, 127, 169, 172, 192, 198, 203)]
# Prefix lengths and weights, roughly the shape of the IPv4 DFZ.
_LENGTHS = [(24, 60), (23, 10), (22, 13), (21, 5), (20, 5), (19, 3), (18, 2), (17, 1), (16, 1)]
# ASNs arouteserver rejects in AS paths, or that a route server would filter (BGP-LAB.md).
_TRANSIT_FREE = {174, 701, 1299, 2914, 3257, 3320, 3356, 5511, 6453, 6461, 6762, 6830, 7018,
                 12956}


@dataclass(frozen=True)
class AttrSet:
    path: tuple[int, ...]  # after the peer's own ASN, which BIRD prepends
    origin: str  # BIRD's ORIGIN_IGP / ORIGIN_INCOMPLETE
    communities: tuple[tuple[int, int], ...]
    large_communities: tuple[tuple[int, int, int], ...]
    med: int | None


def public_asn(rnd: random.Random) -> int:
    while True:
        asn = rnd.randint(1, 64495) if rnd.random() < 0.7 else rnd.randint(131072, 399999)
        if asn != 23456 and asn not in _TRANSIT_FREE:
            return asn


def make_prefixes(count: int, rnd: random.Random) -> list[str]:
    lengths = [length for length, _w in _LENGTHS]
    weights = [w for _l, w in _LENGTHS]
    seen: set[tuple[int, int]] = set()
    out: list[str] = []
    while len(out) < count:
        length = rnd.choices(lengths, weights)[0]
        first = rnd.choice(_FIRST_OCTETS)
        rest = rnd.getrandbits(24) & ~((1 << (32 - length)) - 1) & 0xFFFFFF
        key = ((first << 24) | rest, length)
        if key in seen:
            continue
        seen.add(key)
        out.append(f"{ipaddress.IPv4Address(key[0])}/{length}")
    return out


def make_attr_sets(count: int, peer_asn: int, rnd: random.Random) -> list[AttrSet]:
    # A few hundred upstream networks; each set is one upstream path to one origin.
    upstreams = [public_asn(rnd) for _ in range(300)]
    sets: set[AttrSet] = set()
    while len(sets) < count:
        hops = rnd.randint(1, 5)  # 2-6 with the peer's own ASN
        path = tuple([rnd.choice(upstreams) for _ in range(hops - 1)] + [public_asn(rnd)])
        if len(set(path)) != len(path) or peer_asn in path:
            continue
        communities = tuple(sorted({(peer_asn, rnd.randint(1, 999))
                                    for _ in range(rnd.choice([0, 1, 1, 2, 2, 3, 4]))}))
        large = tuple(sorted({(peer_asn, rnd.randint(1, 3), rnd.randint(1, 999))
                              for _ in range(rnd.choice([0, 0, 1, 1, 2]))}))
        med = rnd.choice([None, None, None, None, 0, 10, 100])
        origin = "ORIGIN_INCOMPLETE" if rnd.random() < 0.05 else "ORIGIN_IGP"
        sets.add(AttrSet(path, origin, communities, large, med))
    return sorted(sets, key=lambda s: (s.path, s.communities, s.large_communities,
                                       s.med or -1, s.origin))


def assign(prefix_count: int, set_count: int, rnd: random.Random) -> list[int]:
    """The attribute set of each prefix: Zipf-like, every set used at least once."""
    weights = [1.0 / (rank + 10) ** 0.8 for rank in range(set_count)]
    out = list(range(min(set_count, prefix_count)))
    out += rnd.choices(range(set_count), weights, k=prefix_count - len(out))
    rnd.shuffle(out)
    return out


@dataclass(frozen=True)
class Table:
    prefixes: list[str]
    sets: list[AttrSet]
    set_of: list[int]  # per prefix

    @classmethod
    def generate(cls, prefix_count: int, set_count: int, peer_asn: int, seed: int) -> Table:
        rnd = random.Random(seed)
        prefixes = make_prefixes(prefix_count, rnd)
        sets = make_attr_sets(set_count, peer_asn, rnd)
        return cls(prefixes, sets, assign(prefix_count, set_count, rnd))


def _filter_body(s: AttrSet) -> str:
    stmts = [f"bgp_origin = {s.origin};", "bgp_path = +empty+;"]
    stmts += [f"bgp_path.prepend({asn});" for asn in reversed(s.path)]
    stmts += [f"bgp_community.add(({a},{b}));" for a, b in s.communities]
    stmts += [f"bgp_large_community.add(({a},{b},{c}));" for a, b, c in s.large_communities]
    if s.med is not None:
        stmts.append(f"bgp_med = {s.med};")
    return " ".join(stmts) + " accept;"


def write_bird_config(table: Table, directory: Path, local: str, asn: int, neighbor: str,
                      neighbor_asn: int, extended_messages: bool = False) -> Path:
    """bird.conf plus routes.conf (the statics) in ``directory``; returns bird.conf."""
    by_set: list[list[str]] = [[] for _ in table.sets]
    for prefix, index in zip(table.prefixes, table.set_of, strict=True):
        by_set[index].append(prefix)
    routes = directory / "routes.conf"
    with routes.open("w") as out:
        for index, (attrs, prefixes) in enumerate(zip(table.sets, by_set, strict=True)):
            if not prefixes:
                continue
            out.write(f"protocol static t{index} {{\n  ipv4 {{ import filter {{ "
                      f"{_filter_body(attrs)} }}; }};\n")
            out.writelines(f"  route {p} blackhole;\n" for p in prefixes)
            out.write("}\n")
    conf = directory / "bird.conf"
    ext = "  enable extended messages on;\n" if extended_messages else ""
    conf.write_text(
        "log stderr { info, remote, warning, error, auth, fatal, bug };\n"
        f"router id {local};\n"
        "protocol device { scan time 10; }\n"
        f'include "{routes}";\n'
        # BIRD keeps a MED on eBGP export only when the export filter sets it.
        "filter to_ixrs { if defined(bgp_med) then bgp_med = bgp_med; accept; }\n"
        "protocol bgp ixrs {\n"
        "  disabled;\n"
        f"  local {local} as {asn};\n"
        f"  neighbor {neighbor} as {neighbor_asn};\n"
        "  strict bind yes;\n"
        "  hold time 90;\n"
        "  connect delay time 1;\n"
        "  connect retry time 2;\n"
        f"{ext}"
        "  ipv4 { import none; export filter to_ixrs; };\n"
        "}\n"
    )
    return conf
