"""Configurations, sessions and routes for the decision tests, with public-looking numbers."""

from __future__ import annotations

import copy
from typing import Any

from ixrs.config import RouteServerConfig
from ixrs.config.clients import parse_clients
from ixrs.config.general import parse_general
from processors.export import ExportPolicy
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Epoch, Route, Session

RS_AS = 59900
PREFIX = "185.50.0.0/24"
PREFIX6 = "2a0c:9a40::/32"

# arouteserver's usual control communities; the extended forms are those of its live tests.
COMMUNITIES: dict[str, dict[str, str]] = {
    "blackholing": {"lrg": "rs_as:666:0"},
    "do_not_announce_to_any": {"std": "0:rs_as", "lrg": "rs_as:0:0", "ext": "rt:0:rs_as"},
    "do_not_announce_to_peer": {
        "std": "0:peer_as",
        "lrg": "rs_as:0:peer_as",
        "ext": "rt:0:peer_as",
    },
    "announce_to_peer": {
        "std": "rs_as:peer_as",
        "lrg": "rs_as:1:peer_as",
        "ext": "rt:rs_as:peer_as",
    },
    "prepend_once_to_any": {"std": "65501:rs_as", "lrg": "rs_as:101:0"},
    "prepend_twice_to_any": {"std": "65502:rs_as", "lrg": "rs_as:102:0"},
    "prepend_thrice_to_any": {"std": "65503:rs_as", "lrg": "rs_as:103:0"},
    "prepend_once_to_peer": {"std": "65501:peer_as", "lrg": "rs_as:101:peer_as"},
    "prepend_twice_to_peer": {"std": "65502:peer_as", "lrg": "rs_as:102:peer_as"},
    "prepend_thrice_to_peer": {"std": "65503:peer_as", "lrg": "rs_as:103:peer_as"},
    "add_noexport_to_any": {"std": "65504:rs_as", "lrg": "rs_as:901:0"},
    "add_noexport_to_peer": {"std": "65504:peer_as", "lrg": "rs_as:901:peer_as"},
    "add_noadvertise_to_any": {"std": "65505:rs_as", "lrg": "rs_as:902:0"},
    "add_noadvertise_to_peer": {"std": "65505:peer_as", "lrg": "rs_as:902:peer_as"},
    "rpki_bgp_origin_validation_valid": {"lrg": "rs_as:1000:1"},
    "rpki_bgp_origin_validation_invalid": {"lrg": "rs_as:1000:4"},
    "prefix_present_in_as_set": {"lrg": "rs_as:2000:1"},  # outbound: kept on export
    "reject_cause": {"lrg": "rs_as:65535:dyn_val"},  # internal, with dyn_val: any value scrubbed
}

# Sessions: (address, ASN). AS20002 has two routers; AS196615 has a 4-octet ASN.
CLIENTS: tuple[tuple[str, int], ...] = (
    ("192.0.2.2", 20002),
    ("192.0.2.12", 20002),
    ("192.0.2.3", 3333),
    ("192.0.2.4", 196615),
    ("192.0.2.5", 8283),
    ("192.0.2.6", 20940),
)


def general_doc(**cfg: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rs_as": RS_AS,
        "router_id": "192.0.2.1",
        "communities": copy.deepcopy(COMMUNITIES),
        "blackhole_filtering": {"policy_ipv4": "propagate-unchanged"},
        "filtering": {"reject_policy": {"policy": "tag"}},
    }
    base.update(cfg)
    return {"cfg": base}


def client_doc(ip: str, asn: int, **cfg: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"asn": asn, "ip": ip}
    mapped = cfg.pop("mapped", None)
    if mapped is not None:
        entry["16bit_mapped_asn"] = mapped
    if cfg:
        entry["cfg"] = cfg
    return entry


def config(clients: list[dict[str, Any]] | None = None, **general: Any) -> RouteServerConfig:
    parsed = parse_general(general_doc(**general), "general.yml")
    entries = clients if clients is not None else [client_doc(ip, asn) for ip, asn in CLIENTS]
    asns, parsed_clients = parse_clients({"clients": entries}, "clients.yml", parsed)
    return RouteServerConfig.build(parsed, asns, parsed_clients)


def policy(clients: list[dict[str, Any]] | None = None, **general: Any) -> ExportPolicy:
    return ExportPolicy.from_config(config(clients, **general))


def session(ip: str, asn: int | None = None, speaker: str = "speaker-1") -> Session:
    if asn is None:
        asn = dict(CLIENTS)[ip]
    return Session(speaker, ip, asn, Epoch("incarnation-1", 1))


def path(*asns: int, as_set: tuple[int, ...] = ()) -> tuple[AsPathSegment, ...]:
    segments = (AsPathSegment(SegmentType.AS_SEQUENCE, asns),) if asns else ()
    if as_set:
        segments += (AsPathSegment(SegmentType.AS_SET, as_set),)
    return segments


def route(
    ip: str,
    *transit: int,
    router_id: str | None = None,
    asn: int | None = None,
    speaker: str = "speaker-1",
    **attrs: Any,
) -> Route:
    """A route from the session at `ip`: AS_PATH is its ASN then `transit`."""
    s = session(ip, asn, speaker)
    attrs.setdefault("as_path", path(s.peer_asn, *transit))
    attrs.setdefault("next_hop", ip)
    attrs.setdefault("origin", Origin.IGP)
    return Route(s, Attributes(**attrs), router_id if router_id is not None else ip)
