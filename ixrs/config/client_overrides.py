"""The per-client `cfg:` section of clients.yml: what a client sets for itself.

Every field is None (or an empty section) unless the file sets it; client_settings.py merges
these over general.yml's values as arouteserver does.
"""

from dataclasses import dataclass

from ixrs.config.communities import CommunityPattern, parse_pattern
from ixrs.config.general import (
    CLIENT_COMMUNITY_ACTIONS,
    MAX_PREFIX_ACTIONS,
    NEXT_HOP_POLICIES,
    REJECT_POLICIES,
)
from ixrs.config.node import Node, describe
from ixrs.config.prefixes import (
    PrefixLenRange,
    PrefixListEntry,
    WhiteListRoute,
    prefix_len_range,
    prefix_list_entry,
    white_list_route,
)
from ixrs.config.sections import option, section, yaml_section
from ixrs.config.values import (
    Parser,
    as_set,
    asn_list,
    boolean,
    choice,
    integer,
    ip_address,
    list_of,
    text,
    uint,
)

ROLES = ("provider", "rs", "rs-client", "customer", "peer")  # RFC 9234


def _role(node: Node) -> str:
    return choice(*ROLES)(Node(node.file, node.path, str(node.value).strip().lower()))


def _client_community(kind: str) -> Parser[CommunityPattern]:
    """The client's own RTBH community: no macros, and 65535:x is fine (it is the client's)."""

    def parse(node: Node) -> CommunityPattern:
        if not isinstance(node.value, str):
            raise node.error(f"must be a quoted string, not {describe(node.value)}")
        try:
            return parse_pattern(node.value, kind, None, reserved_ok=True)
        except ValueError as exc:
            raise node.error(str(exc)) from None

    return parse


@dataclass(frozen=True)
class CustomOption:
    """Daemon-specific configuration lines (arouteserver's custom_options); ixrs has no use."""

    daemon: str
    address_family: str
    section: str
    config_lines: tuple[str, ...]


_CUSTOM_SECTIONS = {"bird": ("protocol", "channel"), "openbgpd": ("client",)}


def _custom_options(node: Node) -> tuple[CustomOption, ...]:
    found = []
    for daemon in node.mapping(allowed=_CUSTOM_SECTIONS):
        per_daemon = node.child(daemon)
        for family in per_daemon.mapping(allowed=("ipv4", "ipv6", "any")):
            per_family = per_daemon.child(family)
            if not per_family.mapping(allowed=_CUSTOM_SECTIONS[daemon]):
                raise per_family.error(f"must name one of {', '.join(_CUSTOM_SECTIONS[daemon])}")
            for name in per_family.mapping():
                entry = per_family.child(name)
                entry.mapping(allowed=("config_lines",))
                lines = entry.child("config_lines")
                if not isinstance(lines.value, list):
                    raise lines.error("must be a list of configuration lines")
                found.append(CustomOption(daemon, family, name, list_of(text)(lines)))
    return tuple(found)


@yaml_section
class NextHopOverride:
    policy: str | None = option(choice(*NEXT_HOP_POLICIES), None)
    authorized_addresses_list: tuple[str, ...] | None = option(list_of(ip_address()), None)


@yaml_section
class IrrdbOverride:
    as_sets: tuple[str, ...] | None = option(list_of(as_set), None)
    enforce_origin_in_as_set: bool | None = option(boolean, None)
    enforce_prefix_in_as_set: bool | None = option(boolean, None)
    white_list_pref: tuple[PrefixListEntry, ...] | None = option(list_of(prefix_list_entry), None)
    white_list_asn: tuple[int, ...] | None = option(asn_list, None)
    white_list_route: tuple[WhiteListRoute, ...] | None = option(list_of(white_list_route), None)


@yaml_section
class RpkiCheckOverride:
    enabled: bool | None = option(boolean, None)
    reject_invalid: bool | None = option(boolean, None)


@yaml_section
class PeeringDbIncrementOverride:
    absolute: int | None = option(uint, None)
    relative: int | None = option(uint, None)


@yaml_section
class MaxPrefixPeeringDbOverride:
    enabled: bool | None = option(boolean, None)
    increment: PeeringDbIncrementOverride = section(PeeringDbIncrementOverride)


@yaml_section
class MaxPrefixOverride:
    action: str | None = option(choice(*MAX_PREFIX_ACTIONS), None)
    restart_after: int | None = option(uint, None)
    count_rejected_routes: bool | None = option(boolean, None)
    peering_db: MaxPrefixPeeringDbOverride = section(MaxPrefixPeeringDbOverride)
    limit_ipv4: int | None = option(uint, None)
    limit_ipv6: int | None = option(uint, None)


@yaml_section
class RolesOverride:
    enabled: bool | None = option(boolean, None)
    strict_mode: bool | None = option(boolean, None)
    local_role: str = option(_role, "rs")


@yaml_section
class RejectPolicyOverride:
    policy: str | None = option(choice(*REJECT_POLICIES), None)


@yaml_section
class FilteringOverride:
    next_hop: NextHopOverride = section(NextHopOverride)
    ipv4_pref_len: PrefixLenRange | None = option(prefix_len_range(4), None)
    ipv6_pref_len: PrefixLenRange | None = option(prefix_len_range(6), None)
    max_as_path_len: int | None = option(integer(1, 64), None)
    reject_invalid_as_in_as_path: bool | None = option(boolean, None)
    allow_as_set: bool | None = option(boolean, None)
    irrdb: IrrdbOverride = section(IrrdbOverride)
    rpki_bgp_origin_validation: RpkiCheckOverride = section(RpkiCheckOverride)
    rpki_aspa_verification: RpkiCheckOverride = section(RpkiCheckOverride)
    black_list_pref: tuple[PrefixListEntry, ...] | None = option(list_of(prefix_list_entry), None)
    max_prefix: MaxPrefixOverride = section(MaxPrefixOverride)
    roles: RolesOverride = section(RolesOverride)
    reject_policy: RejectPolicyOverride = section(RejectPolicyOverride)


@yaml_section
class ClientCommunityOverride:
    peering_db: bool | None = option(boolean, None)
    action: str | None = option(choice(*CLIENT_COMMUNITY_ACTIONS), None)
    std: CommunityPattern | None = option(_client_community("std"), None)
    lrg: CommunityPattern | None = option(_client_community("lrg"), None)


@yaml_section
class BlackholeOverride:
    announce_to_client: bool | None = option(boolean, None)
    client_community: ClientCommunityOverride = section(ClientCommunityOverride)


@yaml_section
class GracefulShutdownOverride:
    enabled: bool | None = option(boolean, None)


@yaml_section
class ClientOverrides:
    prepend_rs_as: bool | None = option(boolean, None)
    passive: bool | None = option(boolean, None)
    gtsm: bool | None = option(boolean, None)
    multihop: int | None = option(integer(0, 255), None)
    add_path: bool | None = option(boolean, None)
    rfc8950: bool | None = option(boolean, None)
    filtering: FilteringOverride = section(FilteringOverride)
    blackhole_filtering: BlackholeOverride = section(BlackholeOverride)
    graceful_shutdown: GracefulShutdownOverride = section(GracefulShutdownOverride)
    attach_custom_communities: tuple[str, ...] | None = option(list_of(text), None)
    custom_options: tuple[CustomOption, ...] | None = option(_custom_options, None)
