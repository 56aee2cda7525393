"""Typed parameters shared by every peer implementation, and the route view they all report."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Family = Literal["ipv4", "ipv6"]
Origin = Literal["igp", "egp", "incomplete"]


def family_of(address_or_prefix: str) -> Family:
    return "ipv6" if ":" in address_or_prefix else "ipv4"


def canonical_prefix(prefix: str) -> str:
    return ipaddress.ip_network(prefix, strict=False).compressed


def canonical_address(address: str) -> str:
    return ipaddress.ip_address(address).compressed


@dataclass(frozen=True)
class Neighbor:
    """One BGP session of a peer: usually the route server's v4 or v6 address.

    `families` defaults to the family of `address` (one session per address family, as at
    IXPs). `rs_client` makes this peer act as a route server towards the neighbour (BIRD,
    GoBGP): no own-AS prepend and next hop kept, as a hub in lab tests needs.
    `connect_retry` is short because the daemons' defaults (BIRD 120 s) outlast a test.
    """

    address: str
    asn: int
    passive: bool = False
    hold_time: int = 90
    families: tuple[Family, ...] = ()
    rs_client: bool = False
    connect_retry: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", canonical_address(self.address))
        if not self.families:
            object.__setattr__(self, "families", (family_of(self.address),))
        if self.hold_time != 0 and self.hold_time < 3:
            raise ValueError("hold time must be 0 or at least 3 s (RFC 4271 §4.2)")


@dataclass(frozen=True)
class Route:
    """A route a peer originates.

    The neighbour receives AS_PATH = (the peer's ASN, *as_path): BIRD and GoBGP prepend their
    own ASN on eBGP and the harness does the same for ExaBGP. Set prepend_own_as=False to send
    `as_path` exactly as given (ExaBGP only; the others always prepend). next_hop defaults to
    the peer's own address in the route's family. Extra `attributes` are raw path attributes
    (type code, flags, value bytes), ExaBGP only, for crafted or malformed UPDATEs.
    """

    prefix: str
    next_hop: str | None = None
    as_path: tuple[int, ...] = ()
    communities: tuple[tuple[int, int], ...] = ()
    large_communities: tuple[tuple[int, int, int], ...] = ()
    med: int | None = None
    origin: Origin = "igp"
    prepend_own_as: bool = True
    attributes: tuple[tuple[int, int, bytes], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", canonical_prefix(self.prefix))
        if self.next_hop is not None:
            object.__setattr__(self, "next_hop", canonical_address(self.next_hop))

    @property
    def family(self) -> Family:
        return family_of(self.prefix)


@dataclass(frozen=True)
class PeerSpec:
    """What a peer is: its ASN (4-byte allowed), router id, sessions and initial routes.

    Local addresses default to the Host's. router_id defaults to the local IPv4 address.
    """

    asn: int
    neighbors: tuple[Neighbor, ...]
    routes: tuple[Route, ...] = ()
    router_id: str | None = None
    local_v4: str | None = None
    local_v6: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.asn < 2**32:
            raise ValueError(f"ASN {self.asn} out of range")


@dataclass(frozen=True)
class RouteView:
    """A route as a peer holds it, normalised so that routes compare across implementations.

    Communities are sorted (implementations disagree on order); an AS_SET's members are
    flattened into as_path in the order shown.
    """

    prefix: str
    next_hop: str
    as_path: tuple[int, ...] = ()
    communities: tuple[tuple[int, int], ...] = ()
    large_communities: tuple[tuple[int, int, int], ...] = ()
    med: int | None = None
    origin: Origin = "igp"

    @classmethod
    def build(
        cls,
        prefix: str,
        next_hop: str,
        as_path: Iterable[int] = (),
        communities: Iterable[tuple[int, int]] = (),
        large_communities: Iterable[tuple[int, int, int]] = (),
        med: int | None = None,
        origin: Origin = "igp",
    ) -> RouteView:
        return cls(
            prefix=canonical_prefix(prefix),
            next_hop=canonical_address(next_hop),
            as_path=tuple(as_path),
            communities=tuple(sorted(communities)),
            large_communities=tuple(sorted(large_communities)),
            med=med,
            origin=origin,
        )

    @classmethod
    def expected(cls, route: Route, origin_asn: int, next_hop: str) -> RouteView:
        """What a neighbour should receive of `route` from a peer of ASN origin_asn
        through a transparent route server."""
        path = (origin_asn, *route.as_path) if route.prepend_own_as else route.as_path
        return cls.build(
            route.prefix,
            route.next_hop or next_hop,
            path,
            route.communities,
            route.large_communities,
            route.med,
            route.origin,
        )
