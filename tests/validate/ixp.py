"""A small test IXP: its configuration, routes to send and data sets to load.

The clients use public-looking ASNs (AS20002, AS20003, AS196615) and announce public-looking
prefixes (185.50.0.0/24, 2a0c:9a40::/32); the peering LAN is 192.0.2.0/24 and
2001:db8:1::/64, as in examples/. IRR enforcement is off unless a test turns it on, so that
each test exercises the step it is about.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from ixrs.config import RouteServerConfig
from ixrs.config.clients import parse_clients
from ixrs.config.general import parse_general
from processors.datasets import IrrSet, VrpSet, irr_set, vrp_set
from processors.validate import ImportPolicy, PolicyData, validate
from processors.validate.client import ClientPolicy
from schemas.attributes import AsPathSegment, Attributes, SegmentType
from schemas.events import IrrPrefix, VerdictGroup, Vrp

RS_AS = 59900

BASE_GENERAL: dict[str, Any] = {
    "cfg": {
        "rs_as": RS_AS,
        "router_id": "192.0.2.1",
        "filtering": {
            "irrdb": {
                "enforce_origin_in_as_set": False,
                "enforce_prefix_in_as_set": False,
                "tag_as_set": False,
            },
        },
    }
}

BASE_CLIENTS: list[dict[str, Any]] = [
    {"asn": 20002, "ip": ["192.0.2.2", "2001:db8:1::2"]},
    {"asn": 20002, "ip": "192.0.2.22", "description": "AS20002's second router"},
    {"asn": 20003, "ip": ["192.0.2.3", "2001:db8:1::3"]},
    {"asn": 196615, "ip": ["192.0.2.4", "2001:db8:1::4"]},
]


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    node = document
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def make_config(
    general: dict[str, Any] | None = None,
    clients: Sequence[dict[str, Any]] | None = None,
    asns: dict[str, Any] | None = None,
) -> RouteServerConfig:
    """`general` maps dotted paths under `cfg` ("filtering.max_as_path_len") to values."""
    document = copy.deepcopy(BASE_GENERAL)
    for path, value in (general or {}).items():
        set_path(document["cfg"], path, value)
    parsed = parse_general(document, "general.yml")
    clients_doc: dict[str, Any] = {"clients": copy.deepcopy(list(clients or BASE_CLIENTS))}
    if asns:
        clients_doc["asns"] = asns
    asn_sets, parsed_clients = parse_clients(clients_doc, "clients.yml", parsed)
    return RouteServerConfig.build(parsed, asn_sets, parsed_clients)


def client_policy(
    general: dict[str, Any] | None = None,
    ip: str = "192.0.2.2",
    clients: Sequence[dict[str, Any]] | None = None,
    asns: dict[str, Any] | None = None,
) -> ClientPolicy:
    found = ImportPolicy(make_config(general, clients, asns)).for_peer(ip)
    assert found is not None, ip
    return found


def client_cfg(asn: int, ip: str | list[str], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The base clients, with the first entry replaced by this one."""
    return [{"asn": asn, "ip": ip, "cfg": cfg}, *BASE_CLIENTS[1:]]


def route(
    *path: int,
    next_hop: str = "192.0.2.2",
    communities: Iterable[tuple[int, int]] = (),
    large: Iterable[tuple[int, int, int]] = (),
    ext: Iterable[bytes] = (),
    segments: tuple[AsPathSegment, ...] | None = None,
    **more: Any,
) -> Attributes:
    """An attribute set as AS20002 (by default) would send it: AS_PATH `path` (20002 3333
    when not given)."""
    as_path = (
        segments
        if segments is not None
        else (AsPathSegment(SegmentType.AS_SEQUENCE, path or (20002, 3333)),)
    )
    return Attributes(
        as_path=as_path,
        next_hop=next_hop,
        communities=tuple(communities),
        large_communities=tuple(large),
        ext_communities=tuple(ext),
        **more,
    )


def verdicts(
    policy: ClientPolicy,
    attrs: Attributes,
    prefixes: Sequence[str],
    data: PolicyData | None = None,
) -> dict[str, VerdictGroup]:
    """The verdict group of each prefix."""
    groups = validate(policy, attrs, prefixes, data or PolicyData())
    return {prefix: group for group in groups for prefix in group.prefixes}


def verdict(
    policy: ClientPolicy, attrs: Attributes, prefix: str, data: PolicyData | None = None
) -> VerdictGroup:
    return verdicts(policy, attrs, [prefix], data)[prefix]


def names(group: VerdictGroup) -> list[str]:
    return [reason.name for reason in group.reasons]


def codes(group: VerdictGroup) -> list[int]:
    return [reason.code for reason in group.reasons]


def vrps(*entries: tuple[str, int, int]) -> VrpSet:
    """(prefix, maxLength, ASN) triples as a VRP set."""
    return vrp_set(Vrp(prefix, max_length, asn, "ripe") for prefix, max_length, asn in entries)


def irr(name: str, asns: Iterable[int] = (), prefixes: Iterable[str | IrrPrefix] = ()) -> IrrSet:
    """An IRR list; prefixes given as text are exact entries."""
    entries = [IrrPrefix("prefixes", p) if isinstance(p, str) else p for p in prefixes]
    return irr_set(name, asns, entries)


def data_with(
    vrp_set: VrpSet | None = None, sets: Iterable[IrrSet] = (), base: PolicyData | None = None
) -> PolicyData:
    data = (base or PolicyData()).with_vrps(vrp_set)
    return data.with_irr(sets)
