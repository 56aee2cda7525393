"""Control communities (RFC 7948 §4.6.1), as the `communities` block of general.yml defines them.

Clients tag a route with them to ask the route server something about its export: not to
announce it, to announce it to one peer only, to prepend, to add NO_EXPORT or NO_ADVERTISE.
Each comes in standard, large and extended form. `peer_as` in the last part names the client
the request is about: in the large and extended forms it is the client's ASN; in the standard
form it is the ASN if it fits 16 bits, else the client's `16bit_mapped_asn` (RFC 7948 §4.6.1:
4-octet ASNs do not fit a standard community). The meaning of each follows arouteserver's BIRD
templates; this module reads them off a route and scrubs them before export. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ixrs.config.communities import BUILTIN_SPECS, INBOUND, INTERNAL, Communities, CommunitySet
from schemas.attributes import Attributes

# Well-known communities (RFC 1997, RFC 7999).
NO_EXPORT = (65535, 65281)
NO_ADVERTISE = (65535, 65282)
NO_EXPORT_SUBCONFED = (65535, 65283)
BLACKHOLE = (65535, 666)
# RFC 8097: origin validation state "invalid", as arouteserver's BIRD templates tag it.
RPKI_INVALID_EXT = bytes((0x43, 0, 0, 0, 0, 0, 0, 2))
_NON_TRANSITIVE = 0x40  # RFC 4360 §2: the T bit of the extended community type


class Request(StrEnum):
    DENY_ANY = "do_not_announce_to_any"
    DENY_PEER = "do_not_announce_to_peer"
    ALLOW_PEER = "announce_to_peer"
    PREPEND_ANY = "prepend_to_any"
    PREPEND_PEER = "prepend_to_peer"
    NO_EXPORT_ANY = "add_noexport_to_any"
    NO_EXPORT_PEER = "add_noexport_to_peer"
    NO_ADVERTISE_ANY = "add_noadvertise_to_any"
    NO_ADVERTISE_PEER = "add_noadvertise_to_peer"
    BLACKHOLE = "blackholing"
    RPKI_INVALID = "rpki_bgp_origin_validation_invalid"


Ask = tuple[Request, int]  # the request, and how many prepends (0 for the others)
Named = tuple[bool, int]  # (standard form?, the peer_as value): the client a request names

_TIMES = {"once": 1, "twice": 2, "thrice": 3}
_ASKS: dict[str, Ask] = {
    "do_not_announce_to_any": (Request.DENY_ANY, 0),
    "do_not_announce_to_peer": (Request.DENY_PEER, 0),
    "announce_to_peer": (Request.ALLOW_PEER, 0),
    **{f"prepend_{t}_to_any": (Request.PREPEND_ANY, n) for t, n in _TIMES.items()},
    **{f"prepend_{t}_to_peer": (Request.PREPEND_PEER, n) for t, n in _TIMES.items()},
    "add_noexport_to_any": (Request.NO_EXPORT_ANY, 0),
    "add_noexport_to_peer": (Request.NO_EXPORT_PEER, 0),
    "add_noadvertise_to_any": (Request.NO_ADVERTISE_ANY, 0),
    "add_noadvertise_to_peer": (Request.NO_ADVERTISE_PEER, 0),
    "blackholing": (Request.BLACKHOLE, 0),
    "rpki_bgp_origin_validation_invalid": (Request.RPKI_INVALID, 0),
}

ExtValue = tuple[str, int, int]  # ("rt" or "ro", global part, local part), as general.yml has it


_EXT_KINDS = {2: "rt", 3: "ro"}  # RFC 4360 subtypes: route target, route origin


def ext_value(raw: bytes) -> ExtValue | None:
    """An RFC 4360 route-target/route-origin community in general.yml's form, if it is one.

    Only the encoding BIRD gives `(rt, a, b)` matches: two-octet-AS specific when a fits 16
    bits, else four-octet-AS specific (RFC 5668).
    """
    kind = _EXT_KINDS.get(raw[1])
    if kind is None:
        return None
    if raw[0] == 0x00:
        return kind, int.from_bytes(raw[2:4]), int.from_bytes(raw[4:8])
    if raw[0] == 0x02 and (high := int.from_bytes(raw[2:6])) > 0xFFFF:
        return kind, high, int.from_bytes(raw[6:8])
    return None


@dataclass(frozen=True, slots=True)
class Requests:
    """What one route's communities ask of the route server."""

    general: frozenset[Ask] = frozenset()  # about every client
    named: tuple[tuple[Ask, Named], ...] = ()  # about the clients named
    blackhole: bool = False  # BLACKHOLE (RFC 7999) or the `blackholing` community
    rpki_invalid: bool = False  # RFC 8097 invalid, or `rpki_bgp_origin_validation_invalid`
    no_export: bool = False  # carries NO_EXPORT or NO_EXPORT_SUBCONFED (RFC 1997)
    no_advertise: bool = False  # carries NO_ADVERTISE (RFC 1997)

    def asks(self, request: Request) -> tuple[int, ...]:
        """The prepend counts (0 for other requests) of `request` about every client."""
        return tuple(n for r, n in self.general if r == request)

    def asks_about(
        self, request: Request, std_value: int | None, asn: int | None
    ) -> tuple[int, ...]:
        """The same, about the client with this standard-form value and ASN only (None: a
        client no community can name)."""
        return tuple(
            n
            for (r, n), (std, value) in self.named
            if r == request and value is not None and value == (std_value if std else asn)
        )


NOTHING = Requests()


@dataclass(frozen=True, eq=False)
class Scrub:
    """The inbound and internal communities, removed before export (arouteserver:
    scrub_communities_out). A `peer_as` part is removed for the values a peer ASN can take,
    as BIRD's ranges do; a `dyn_val` part for any value."""

    std: frozenset[tuple[int, int]]
    std_any: frozenset[int]
    std_named: frozenset[int]
    mapped: frozenset[int]  # every 16bit_mapped_asn
    lrg: frozenset[tuple[int, int, int]]
    lrg_any: frozenset[tuple[int, int]]
    lrg_named: frozenset[tuple[int, int]]
    ext: frozenset[ExtValue]
    ext_any: frozenset[tuple[str, int]]
    ext_named: frozenset[tuple[str, int]]

    def communities(self, values: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
        return tuple(v for v in values if not self._std(v))

    def large(self, values: Iterable[tuple[int, int, int]]) -> tuple[tuple[int, int, int], ...]:
        return tuple(v for v in values if not self._lrg(v))

    def extended(self, values: Iterable[bytes]) -> tuple[bytes, ...]:
        # Non-transitive extended communities do not cross an AS boundary (RFC 4360 §2); BIRD
        # removes them towards every EBGP peer, route server clients included.
        return tuple(v for v in values if not v[0] & _NON_TRANSITIVE and not self._ext(v))

    def _std(self, v: tuple[int, int]) -> bool:
        if v in self.std or v[0] in self.std_any:
            return True
        return v[0] in self.std_named and (1 <= v[1] <= 64511 or v[1] in self.mapped)

    def _lrg(self, v: tuple[int, int, int]) -> bool:
        head = v[:2]
        if v in self.lrg or head in self.lrg_any:
            return True
        return head in self.lrg_named and _peer_asn(v[2])

    def _ext(self, raw: bytes) -> bool:
        v = ext_value(raw)
        if v is None:
            return False
        head = v[:2]
        if v in self.ext or head in self.ext_any:
            return True
        if head not in self.ext_named:
            return False
        # A 4-octet peer ASN fits the local part only beside a 2-octet global part.
        return 1 <= v[2] <= 64511 or (v[1] <= 0xFFFF and _peer_asn(v[2]))


def _peer_asn(value: int) -> bool:
    # The public ASN ranges, as arouteserver's scrubbing writes them.
    return 1 <= value <= 64511 or 131072 <= value <= 4199999999


@dataclass(frozen=True, eq=False)
class Rules:
    """general.yml's control communities, compiled for lookups by value."""

    std: dict[tuple[int, int], Ask]
    std_named: dict[int, Ask]
    lrg: dict[tuple[int, int, int], Ask]
    lrg_named: dict[tuple[int, int], Ask]
    ext: dict[ExtValue, Ask]
    ext_named: dict[tuple[str, int], Ask]
    scrub: Scrub

    @classmethod
    def build(cls, communities: Communities, mapped: Iterable[int] = ()) -> Rules:
        tables: dict[str, dict] = {k: {} for k in ("std", "lrg", "ext")}
        named: dict[str, dict] = {k: {} for k in ("std", "lrg", "ext")}
        for name, ask in _ASKS.items():
            for pattern in getattr(communities, name).patterns():
                key = _key(pattern.kind, pattern.parts, pattern.ext_type)
                if pattern.macro is None:
                    tables[pattern.kind][key] = ask
                else:
                    named[pattern.kind][key[:-1]] = ask
        return cls(
            tables["std"], {k[0]: a for k, a in named["std"].items()},
            tables["lrg"], named["lrg"],
            tables["ext"], named["ext"],
            _scrub(communities, frozenset(mapped)),
        )  # fmt: skip

    def read(self, attrs: Attributes) -> Requests:
        """The requests a route's communities make."""
        # Once per session and attribute set (ExportPolicy.analyze): each table read into a
        # local once, no call per community but ext_value(), as they count at this rate.
        general: set[Ask] = set()
        named: list[tuple[Ask, Named]] = []
        communities = attrs.communities
        ext_communities = attrs.ext_communities
        if communities:
            fixed_of, about_of = self.std.get, self.std_named.get
            for v in communities:
                if (fixed := fixed_of(v)) is not None:
                    general.add(fixed)
                if (about := about_of(v[0])) is not None:
                    named.append((about, (True, v[1])))
        if attrs.large_communities:
            fixed_of, about_of = self.lrg.get, self.lrg_named.get
            for v in attrs.large_communities:
                if (fixed := fixed_of(v)) is not None:
                    general.add(fixed)
                if (about := about_of(v[:2])) is not None:
                    named.append((about, (False, v[2])))
        if ext_communities:
            fixed_of, about_of = self.ext.get, self.ext_named.get
            for raw in ext_communities:
                e = ext_value(raw)
                if e is None:
                    continue
                if (fixed := fixed_of(e)) is not None:
                    general.add(fixed)
                if (about := about_of(e[:2])) is not None:
                    named.append((about, (False, e[2])))
        blackhole = BLACKHOLE in communities or (Request.BLACKHOLE, 0) in general
        rpki_invalid = (
            RPKI_INVALID_EXT in ext_communities or (Request.RPKI_INVALID, 0) in general
        )
        no_export = NO_EXPORT in communities or NO_EXPORT_SUBCONFED in communities
        no_advertise = NO_ADVERTISE in communities
        if not (general or named or blackhole or rpki_invalid or no_export or no_advertise):
            return NOTHING
        return Requests(
            frozenset(general), tuple(named), blackhole, rpki_invalid, no_export, no_advertise
        )


def _key(kind: str, parts: tuple, ext_type: str | None) -> tuple:
    return (ext_type, *parts) if kind == "ext" else tuple(parts)


def _scrub(communities: Communities, mapped: frozenset[int]) -> Scrub:
    found: dict[str, set] = {}
    for kind in ("std", "lrg", "ext"):
        for group in ("", "_any", "_named"):
            found[kind + group] = set()
    for community in _scrubbed(communities):
        for pattern in community.patterns():
            key = _key(pattern.kind, pattern.parts, pattern.ext_type)
            macro = pattern.macro
            group = "" if macro is None else ("_named" if macro == "peer_as" else "_any")
            found[pattern.kind + group].add(key if macro is None else key[:-1])
    found["std_any"] = {k[0] for k in found["std_any"]}
    found["std_named"] = {k[0] for k in found["std_named"]}
    return Scrub(mapped=mapped, **{k: frozenset(v) for k, v in found.items()})


def _scrubbed(communities: Communities) -> list[CommunitySet]:
    chosen = [
        getattr(communities, name)
        for name, spec in BUILTIN_SPECS.items()
        if spec["role"] in (INBOUND, INTERNAL)
    ]
    return chosen + [entry.community for entry in communities.reject_cause_map]
