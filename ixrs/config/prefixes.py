"""Prefix lengths and prefix-list entries (black lists, white lists)."""

import ipaddress
from dataclasses import dataclass

from ixrs.config.node import Node
from ixrs.config.values import Parser, asn, boolean, integer, text, uint

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_LEN = {4: 32, 6: 128}


@dataclass(frozen=True)
class PrefixLenRange:
    """Inclusive bounds on the prefix length a route server accepts."""

    min: int
    max: int

    def __contains__(self, length: int) -> bool:
        return self.min <= length <= self.max


def prefix_len_range(version: int) -> Parser[PrefixLenRange]:
    top = _MAX_LEN[version]

    def parse(node: Node) -> PrefixLenRange:
        node.mapping(allowed=("min", "max"))
        bounds = {}
        for key in ("min", "max"):
            child = node.child(key)
            if child.absent:
                raise child.error(f"missing; IPv{version} prefix lengths need both min and max")
            bounds[key] = integer(0, top)(child)
        if bounds["min"] > bounds["max"]:
            raise node.error(f"min ({bounds['min']}) must be <= max ({bounds['max']})")
        return PrefixLenRange(**bounds)

    return parse


@dataclass(frozen=True)
class PrefixListEntry:
    """A prefix and the range of lengths it stands for.

    Unless `exact`, an entry covers its more specifics: `ge`..`le`, each defaulting to the
    entry's own length and the address family's maximum.
    """

    prefix: str
    length: int
    comment: str | None = None
    exact: bool = False
    ge: int | None = None
    le: int | None = None

    @property
    def network(self) -> IPNetwork:
        return ipaddress.ip_network(f"{self.prefix}/{self.length}")

    @property
    def max_length(self) -> int:
        return self.network.max_prefixlen

    @property
    def lengths(self) -> range:
        if self.exact:
            return range(self.length, self.length + 1)
        return range(self.ge or self.length, (self.le or self.max_length) + 1)

    def matches(self, network: IPNetwork) -> bool:
        return (
            network.version == self.network.version
            and network.prefixlen in self.lengths
            and network.subnet_of(self.network)  # type: ignore[arg-type]
        )


_ENTRY_KEYS = ("prefix", "length", "comment", "exact", "ge", "le", "max_length")


def prefix_list_entry(node: Node, extra_keys: tuple[str, ...] = ()) -> PrefixListEntry:
    node.mapping(allowed=_ENTRY_KEYS + extra_keys)
    network = _network(node.child("prefix").required(), node.child("length").required())
    entry = PrefixListEntry(
        prefix=str(network.network_address),
        length=network.prefixlen,
        comment=None if node.child("comment").absent else text(node.child("comment")),
        exact=False if node.child("exact").absent else boolean(node.child("exact")),
        ge=_bound(node.child("ge"), network),
        le=_bound(node.child("le"), network),
    )
    if entry.ge and entry.le and entry.ge > entry.le:
        raise node.child("ge").error(f"ge ({entry.ge}) must be <= le ({entry.le})")
    if entry.exact and (entry.ge or entry.le):
        raise node.child("exact").error("ge and le cannot be set when exact is True")
    return entry


def _network(prefix: Node, length: Node) -> IPNetwork:
    try:
        address = ipaddress.ip_network(text(prefix).strip()).network_address
    except ValueError:
        raise prefix.error(f"invalid prefix {prefix.value!r}") from None
    bits = integer(0, address.max_prefixlen)(length)
    try:
        return ipaddress.ip_network(f"{address}/{bits}")
    except ValueError:
        # arouteserver passes this on to the daemon; a mistyped LAN prefix is better caught here.
        raise prefix.error(f"{address}/{bits} has host bits set") from None


def _bound(node: Node, network: IPNetwork) -> int | None:
    # arouteserver reads ge/le 0 as "not set".
    if node.absent or node.value == 0:
        return None
    value = uint(node)
    if not network.prefixlen <= value <= network.max_prefixlen:
        raise node.error(
            f"{value} must be between the prefix length ({network.prefixlen}) "
            f"and {network.max_prefixlen}"
        )
    return value


@dataclass(frozen=True)
class WhiteListRoute:
    """A client's route that always passes the IRR filters; `asn` is the origin, if set."""

    entry: PrefixListEntry
    asn: int | None = None


def white_list_route(node: Node) -> WhiteListRoute:
    entry = prefix_list_entry(node, extra_keys=("asn",))
    origin = node.child("asn")
    return WhiteListRoute(entry, None if origin.absent else asn(origin))
