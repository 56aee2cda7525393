"""A client's effective settings: general.yml's values with the client's own on top.

This follows arouteserver's merge (config/clients.py): an option the client leaves unset takes
the general value; options that exist only per client (AS-SETs, white lists, black list,
authorized addresses, max-prefix limits, local role, RTBH community) have their own defaults.
"""

from dataclasses import dataclass
from typing import TypeVar

from ixrs.config.client_overrides import (
    ClientOverrides,
    CustomOption,
    MaxPrefixOverride,
    RpkiCheckOverride,
)
from ixrs.config.communities import CommunityPattern
from ixrs.config.general import (
    GeneralConfig,
    GracefulShutdown,
    MaxPrefix,
    MaxPrefixPeeringDb,
    PeeringDbIncrement,
    RejectPolicy,
    RpkiCheck,
)
from ixrs.config.prefixes import PrefixLenRange, PrefixListEntry, WhiteListRoute

T = TypeVar("T")


@dataclass(frozen=True)
class ClientNextHop:
    policy: str
    authorized_addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientIrrdb:
    """`as_sets` is the client's own list, else its AS's (the `asns:` section), else empty,
    which means: expand the client's ASN alone."""

    as_sets: tuple[str, ...]
    enforce_origin_in_as_set: bool
    enforce_prefix_in_as_set: bool
    white_list_pref: tuple[PrefixListEntry, ...] = ()
    white_list_asn: tuple[int, ...] = ()
    white_list_route: tuple[WhiteListRoute, ...] = ()


@dataclass(frozen=True)
class ClientMaxPrefix:
    """`limit_ipv4/6` is the client's limit, else general_limit_ipv4/6; 0 means no limit.

    Nothing is enforced while `action` is None, as in arouteserver.
    """

    action: str | None
    restart_after: int
    count_rejected_routes: bool
    peering_db: MaxPrefixPeeringDb
    limit_ipv4: int
    limit_ipv6: int


@dataclass(frozen=True)
class ClientRoles:
    enabled: bool
    strict_mode: bool
    local_role: str


@dataclass(frozen=True)
class ClientFiltering:
    next_hop: ClientNextHop
    ipv4_pref_len: PrefixLenRange
    ipv6_pref_len: PrefixLenRange
    max_as_path_len: int
    reject_invalid_as_in_as_path: bool
    allow_as_set: bool
    irrdb: ClientIrrdb
    rpki_bgp_origin_validation: RpkiCheck
    rpki_aspa_verification: RpkiCheck
    black_list_pref: tuple[PrefixListEntry, ...]
    max_prefix: ClientMaxPrefix
    roles: ClientRoles
    reject_policy: RejectPolicy


@dataclass(frozen=True)
class ClientRtbhCommunity:
    peering_db: bool
    action: str
    std: CommunityPattern | None = None
    lrg: CommunityPattern | None = None


@dataclass(frozen=True)
class ClientBlackhole:
    announce_to_client: bool
    client_community: ClientRtbhCommunity


@dataclass(frozen=True)
class ClientSettings:
    prepend_rs_as: bool
    passive: bool
    gtsm: bool
    multihop: int | None
    add_path: bool
    rfc8950: bool
    filtering: ClientFiltering
    blackhole_filtering: ClientBlackhole
    graceful_shutdown: GracefulShutdown
    attach_custom_communities: tuple[str, ...] = ()
    custom_options: tuple[CustomOption, ...] = ()


def _pick(own: T | None, general: T) -> T:
    return general if own is None else own


def effective_settings(
    general: GeneralConfig, own: ClientOverrides, asn_as_sets: tuple[str, ...]
) -> ClientSettings:
    """Merge a client's `cfg` over general.yml; `asn_as_sets` come from the `asns:` section."""
    return ClientSettings(
        prepend_rs_as=_pick(own.prepend_rs_as, general.prepend_rs_as),
        passive=_pick(own.passive, general.passive),
        gtsm=_pick(own.gtsm, general.gtsm),
        multihop=_pick(own.multihop, general.multihop),
        add_path=_pick(own.add_path, general.add_path),
        rfc8950=_pick(own.rfc8950, general.rfc8950),
        filtering=_filtering(general, own, asn_as_sets),
        blackhole_filtering=_blackhole(general, own),
        graceful_shutdown=GracefulShutdown(
            enabled=_pick(own.graceful_shutdown.enabled, general.graceful_shutdown.enabled),
            local_pref=general.graceful_shutdown.local_pref,
        ),
        attach_custom_communities=own.attach_custom_communities or (),
        custom_options=own.custom_options or (),
    )


def _filtering(
    general: GeneralConfig, own: ClientOverrides, asn_as_sets: tuple[str, ...]
) -> ClientFiltering:
    mine, base = own.filtering, general.filtering
    return ClientFiltering(
        next_hop=ClientNextHop(
            policy=_pick(mine.next_hop.policy, base.next_hop.policy),
            authorized_addresses=mine.next_hop.authorized_addresses_list or (),
        ),
        ipv4_pref_len=_pick(mine.ipv4_pref_len, base.ipv4_pref_len),
        ipv6_pref_len=_pick(mine.ipv6_pref_len, base.ipv6_pref_len),
        max_as_path_len=_pick(mine.max_as_path_len, base.max_as_path_len),
        reject_invalid_as_in_as_path=_pick(
            mine.reject_invalid_as_in_as_path, base.reject_invalid_as_in_as_path
        ),
        allow_as_set=_pick(mine.allow_as_set, base.allow_as_set),
        irrdb=ClientIrrdb(
            as_sets=mine.irrdb.as_sets or asn_as_sets,
            enforce_origin_in_as_set=_pick(
                mine.irrdb.enforce_origin_in_as_set, base.irrdb.enforce_origin_in_as_set
            ),
            enforce_prefix_in_as_set=_pick(
                mine.irrdb.enforce_prefix_in_as_set, base.irrdb.enforce_prefix_in_as_set
            ),
            white_list_pref=mine.irrdb.white_list_pref or (),
            white_list_asn=mine.irrdb.white_list_asn or (),
            white_list_route=mine.irrdb.white_list_route or (),
        ),
        rpki_bgp_origin_validation=_rpki(
            mine.rpki_bgp_origin_validation, base.rpki_bgp_origin_validation
        ),
        rpki_aspa_verification=_rpki(mine.rpki_aspa_verification, base.rpki_aspa_verification),
        black_list_pref=mine.black_list_pref or (),
        max_prefix=_max_prefix(mine.max_prefix, base.max_prefix),
        roles=ClientRoles(
            enabled=_pick(mine.roles.enabled, base.roles.enabled),
            strict_mode=_pick(mine.roles.strict_mode, base.roles.strict_mode),
            local_role=mine.roles.local_role,
        ),
        reject_policy=RejectPolicy(_pick(mine.reject_policy.policy, base.reject_policy.policy)),
    )


def _rpki(own: RpkiCheckOverride, general: RpkiCheck) -> RpkiCheck:
    return RpkiCheck(
        enabled=_pick(own.enabled, general.enabled),
        reject_invalid=_pick(own.reject_invalid, general.reject_invalid),
    )


def _max_prefix(own: MaxPrefixOverride, general: MaxPrefix) -> ClientMaxPrefix:
    increment = own.peering_db.increment
    return ClientMaxPrefix(
        action=_pick(own.action, general.action),
        restart_after=_pick(own.restart_after, general.restart_after),
        count_rejected_routes=_pick(own.count_rejected_routes, general.count_rejected_routes),
        peering_db=MaxPrefixPeeringDb(
            enabled=_pick(own.peering_db.enabled, general.peering_db.enabled),
            increment=PeeringDbIncrement(
                absolute=_pick(increment.absolute, general.peering_db.increment.absolute),
                relative=_pick(increment.relative, general.peering_db.increment.relative),
            ),
        ),
        # arouteserver reads a client limit of 0 as "not set" and falls back (PeeringDB is off).
        limit_ipv4=own.limit_ipv4 or general.general_limit_ipv4,
        limit_ipv6=own.limit_ipv6 or general.general_limit_ipv6,
    )


def _blackhole(general: GeneralConfig, own: ClientOverrides) -> ClientBlackhole:
    mine, base = own.blackhole_filtering, general.blackhole_filtering
    community = mine.client_community
    return ClientBlackhole(
        announce_to_client=_pick(mine.announce_to_client, base.announce_to_client),
        client_community=ClientRtbhCommunity(
            peering_db=_pick(community.peering_db, base.client_community.peering_db),
            action=_pick(community.action, base.client_community.action),
            std=community.std,
            lrg=community.lrg,
        ),
    )
