"""arouteserver's clients.yml: the `asns:` section and the `clients:` list.

As in arouteserver, a client entry with several addresses (`ip:` as a list) becomes one Client
per address, i.e. one per BGP session, each with the same settings.
"""

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ixrs.config.client_overrides import ClientOverrides
from ixrs.config.client_settings import ClientSettings, effective_settings
from ixrs.config.general import GeneralConfig
from ixrs.config.node import Node
from ixrs.config.sections import option, read_section, yaml_section
from ixrs.config.values import (
    MAX_ASN,
    Parser,
    as_set,
    asn,
    integer,
    ip_address,
    list_of,
    text,
)

T = TypeVar("T")

_CLIENT_KEYS = ("asn", "ip", "description", "password", "16bit_mapped_asn", "cfg")
_AS_KEY = re.compile(r"^AS(\d+)$")


@yaml_section
class AsnAsSets:
    """One entry of the `asns:` section: AS-SETs shared by all the clients of an AS."""

    asn: int
    as_sets: tuple[str, ...] = option(list_of(as_set), ())


@dataclass(frozen=True)
class Client:
    """One BGP session. `overrides` is what clients.yml sets; `settings` is what applies."""

    asn: int
    ip: str
    settings: ClientSettings
    overrides: ClientOverrides = field(default_factory=ClientOverrides)
    description: str | None = None
    password: str | None = None
    mapped_16bit_asn: int | None = None  # `16bit_mapped_asn`

    @property
    def ip_version(self) -> int:
        return 6 if ":" in self.ip else 4


def parse_clients(
    document: Any, path: str, general: GeneralConfig
) -> tuple[tuple[AsnAsSets, ...], tuple[Client, ...]]:
    """Validate a clients.yml document against the already parsed general.yml."""
    root = Node(path, "", document)
    root.mapping(allowed=("asns", "clients"))
    asns = _parse_asns(root.child("asns"))
    entries = root.child("clients")
    if entries.value is None:
        raise entries.error("missing: clients.yml must have a top-level 'clients:' list")
    as_sets = {entry.asn: entry.as_sets for entry in asns}
    sessions = [
        session for entry in entries.items() for session in _parse_entry(entry, general, as_sets)
    ]
    _check_unique_ips(sessions)
    _check_16bit_mapping(sessions)
    return asns, tuple(session.client for session in sessions)


def _parse_asns(node: Node) -> tuple[AsnAsSets, ...]:
    found = []
    for key in node.mapping():
        child = node.child(str(key))
        match = _AS_KEY.match(key) if isinstance(key, str) else None
        if not match or not 1 <= int(match.group(1)) <= MAX_ASN:
            raise child.error("must be an ASN in the AS<number> format, e.g. AS20002")
        found.append(read_section(AsnAsSets, child, asn=int(match.group(1))))
    return tuple(found)


@dataclass(frozen=True)
class _Session:
    """A parsed client, with the entry and the address it came from (to name them in errors)."""

    client: Client
    entry: Node
    address: Node


def _parse_entry(
    node: Node, general: GeneralConfig, as_sets: dict[int, tuple[str, ...]]
) -> list[_Session]:
    node.mapping(allowed=_CLIENT_KEYS)
    number = asn(node.child("asn").required())
    ips = [(ip_address()(item), item) for item in node.child("ip").required().items(single_ok=True)]
    if not ips:
        raise node.child("ip").error("must not be empty")
    overrides = read_section(ClientOverrides, node.child("cfg"))
    settings = effective_settings(general, overrides, as_sets.get(number, ()))
    _check_next_hop(node, settings)
    _check_custom_communities(node, overrides, general)
    common = {
        "asn": number,
        "settings": settings,
        "overrides": overrides,
        "description": _optional(node.child("description"), text),
        "password": _optional(node.child("password"), text),
        "mapped_16bit_asn": _mapped_asn(node, number),
    }
    return [_Session(Client(ip=ip, **common), node, item) for ip, item in ips]


def _optional(node: Node, parse: Parser[T]) -> T | None:
    return None if node.absent else parse(node)


def _mapped_asn(node: Node, number: int) -> int | None:
    child = node.child("16bit_mapped_asn")
    mapped = _optional(child, integer(64512, 65534))
    if mapped is not None and number <= 65535:
        raise child.error(f"only for 32-bit ASNs; AS{number} is a 16-bit ASN")
    return mapped


def _check_next_hop(node: Node, settings: ClientSettings) -> None:
    next_hop = settings.filtering.next_hop
    where = node.at("cfg.filtering.next_hop")
    listed = not where.child("authorized_addresses_list").absent
    if next_hop.policy == "authorized_addresses" and not next_hop.authorized_addresses:
        raise where.child("authorized_addresses_list").error(
            "missing: mandatory when next_hop.policy is 'authorized_addresses'"
        )
    if next_hop.policy != "authorized_addresses" and listed:
        raise where.child("authorized_addresses_list").error(
            f"only allowed when next_hop.policy is 'authorized_addresses', not {next_hop.policy!r}"
        )


def _check_custom_communities(
    node: Node, overrides: ClientOverrides, general: GeneralConfig
) -> None:
    names = node.at("cfg.attach_custom_communities")
    for index, name in enumerate(overrides.attach_custom_communities or ()):
        if general.custom_community(name) is None:
            raise Node(node.file, f"{names.path}[{index}]", name).error(
                f"unknown custom community {name!r}; declare it in cfg.custom_communities "
                "of general.yml"
            )


def _check_unique_ips(sessions: list[_Session]) -> None:
    first: dict[str, str] = {}
    for session in sessions:
        ip = session.client.ip
        if ip in first:
            raise session.address.error(f"duplicate address {ip}, already used at {first[ip]}")
        first[ip] = session.address.path


def _check_16bit_mapping(sessions: list[_Session]) -> None:
    """One private 16-bit ASN per 32-bit ASN, and the other way round."""
    by_asn: dict[int, int] = {}
    by_mapped: dict[int, int] = {}
    for session in sessions:
        client, mapped = session.client, session.client.mapped_16bit_asn
        if mapped is None:
            continue
        entry = session.entry.child("16bit_mapped_asn")
        if by_asn.setdefault(client.asn, mapped) != mapped:
            raise entry.error(
                f"AS{client.asn} is already mapped to {by_asn[client.asn]}, not {mapped}"
            )
        if by_mapped.setdefault(mapped, client.asn) != client.asn:
            raise entry.error(f"{mapped} already maps AS{by_mapped[mapped]}")
