"""RFC 7948 §4.3: each client's Adj-RIB-In against its IRR prefix list. Pure.

For one client: what it announces that its lists do not cover (the routes the IRR
filters would reject, or do reject), and which prefixes its lists name that it does
not announce (stale route objects, or routes it forgot). The lists are the ones the
import filters use (`AS<asn>` and its AS-SETs), as loaded with ``ixrs load-irr``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ixrs.config import Client
from processors.datasets import IrrSet
from processors.validate.irr import irr_names
from processors.validate.net import parse_prefix
from processors.validate.prefix_index import PrefixList


@dataclass(frozen=True, slots=True)
class PrefixReport:
    asn: int
    address: str
    lists: tuple[str, ...]
    missing_lists: tuple[str, ...]  # named by the configuration, never loaded
    announced: int
    not_covered: tuple[str, ...]  # announced, but no list entry covers it
    not_announced: tuple[str, ...]  # list entries with no announcement of that prefix

    def to_json(self) -> dict[str, object]:
        return {
            "client": {"asn": self.asn, "ip": self.address},
            "lists": list(self.lists),
            "missing_lists": list(self.missing_lists),
            "announced": self.announced,
            "not_covered": list(self.not_covered),
            "not_announced": list(self.not_announced),
        }


def _canonical(prefix: str) -> str:
    import ipaddress

    return str(ipaddress.ip_network(prefix, strict=False))


def prefix_report(
    client: Client, announced: Iterable[str], sets: Mapping[str, IrrSet]
) -> PrefixReport:
    names = irr_names(client)
    loaded = [sets[n] for n in names if n in sets]
    rules = PrefixList(r for s in loaded for r in s.rules)
    mine = sorted(set(announced), key=_sort_key)
    not_covered = tuple(p for p in mine if rules.match(parse_prefix(p)) is None)
    listed = {_canonical(e.prefix) for s in loaded for e in s.prefixes}
    not_announced = tuple(sorted(listed - set(mine), key=_sort_key))
    return PrefixReport(
        client.asn,
        client.ip,
        names,
        tuple(n for n in names if n not in sets),
        len(mine),
        not_covered,
        not_announced,
    )


def _sort_key(prefix: str) -> tuple[int, int, int]:
    net = parse_prefix(prefix)
    return (net.version, net.value, net.length)
