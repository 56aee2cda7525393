"""arouteserver's general.yml (top key `cfg:`), as frozen dataclasses.

Every option takes arouteserver's default when absent (arouteserver 1.27, config/general.py),
except where arouteserver's default is an external lookup: ixrs has no PeeringDB access, so

- `filtering.never_via_route_servers.peering_db`,
- `filtering.max_prefix.peering_db.enabled`,
- `blackhole_filtering.client_community.peering_db`

are False unless the file sets them (and then a ConfigWarning says they are ignored).
`filtering.max_prefix` then falls back on `general_limit_ipv4/6`, as arouteserver does when
PeeringDB has no record.

ixrs extension: `filtering.never_via_route_servers.asns_file` names a local file of ASNs (see
asn_files.py) that is added to `never_via_route_servers.asns`; it takes the place of the
PeeringDB list. arouteserver itself does not know this key.
"""

from typing import Any

from ixrs.config.asn_files import AsnsFile, asns_file
from ixrs.config.communities import (
    RTT_COMMUNITIES,
    Communities,
    CustomCommunity,
    check_communities,
    parse_communities,
    parse_custom_communities,
)
from ixrs.config.node import Node
from ixrs.config.prefixes import (
    PrefixLenRange,
    PrefixListEntry,
    prefix_len_range,
    prefix_list_entry,
)
from ixrs.config.sections import external, option, read_section, section, yaml_section
from ixrs.config.values import (
    asn,
    asn_list,
    boolean,
    choice,
    integer,
    ip_address,
    list_of,
    rtt_thresholds,
    text,
    uint,
)

NEXT_HOP_POLICIES = ("strict", "same-as", "authorized_addresses")
TRANSIT_FREE_ACTIONS = ("reject", "warning")
MAX_PREFIX_ACTIONS = ("shutdown", "restart", "block", "warning")
REJECT_POLICIES = ("reject", "tag", "tag_and_reject")
BLACKHOLE_POLICIES = ("propagate-unchanged", "rewrite-next-hop")
CLIENT_COMMUNITY_ACTIONS = ("add", "replace")
RFC1997_POLICIES = ("rfc1997", "pass")
RPKI_ROAS_SOURCES = ("ripe-rpki-validator-cache", "rtr")
RPKI_ASPAS_SOURCES = ("json", "rtr")

DEFAULT_RPKI_JSON_URLS = (
    "https://console.rpki-client.org/vrps.json",
    "https://rpki.gin.ntt.net/api/export.json",
    "https://rpki-validator.ripe.net/api/export.json",
)
DEFAULT_TRUST_ANCHORS = (
    "APNIC RPKI Root",
    "AfriNIC RPKI Root",
    "LACNIC RPKI Root",
    "RIPE NCC RPKI Root",
    "apnic",
    "afrinic",
    "lacnic",
    "ripe",
)
REGISTROBR_SOURCE = "ftp://ftp.registro.br/pub/numeracao/origin/nicbr-asn-blk-latest.txt"

_urls = list_of(text, single_ok=True)


@yaml_section
class NextHop:
    policy: str = option(choice(*NEXT_HOP_POLICIES), "strict")


@yaml_section
class TransitFree:
    action: str | None = option(choice(*TRANSIT_FREE_ACTIONS), None)  # None: not enforced
    asns: tuple[int, ...] = option(asn_list, ())


@yaml_section
class NeverViaRouteServers:
    peering_db: bool = option(boolean, False)  # arouteserver: True (a PeeringDB lookup)
    asns: tuple[int, ...] = option(asn_list, ())
    asns_file: AsnsFile | None = option(asns_file, None)  # ixrs extension

    @property
    def all_asns(self) -> frozenset[int]:
        from_file = self.asns_file.asns if self.asns_file else ()
        return frozenset(self.asns) | frozenset(from_file)


@yaml_section
class RoasAsRouteObjects:
    enabled: bool = option(boolean, False)


@yaml_section
class ArinWhoisData:
    enabled: bool = option(boolean, False)
    source: str | None = option(text, None)


@yaml_section
class RegistroBrWhoisData:
    enabled: bool = option(boolean, False)
    source: str = option(text, REGISTROBR_SOURCE)


@yaml_section
class Irrdb:
    enforce_origin_in_as_set: bool = option(boolean, True)
    enforce_prefix_in_as_set: bool = option(boolean, True)
    allow_longer_prefixes: bool = option(boolean, False)
    tag_as_set: bool = option(boolean, True)
    peering_db: bool = option(boolean, False)
    use_rpki_roas_as_route_objects: RoasAsRouteObjects = section(RoasAsRouteObjects)
    use_arin_bulk_whois_data: ArinWhoisData = section(ArinWhoisData)
    use_registrobr_bulk_whois_data: RegistroBrWhoisData = section(RegistroBrWhoisData)


@yaml_section
class RpkiCheck:
    """rpki_bgp_origin_validation and rpki_aspa_verification share this shape."""

    enabled: bool = option(boolean, False)
    reject_invalid: bool = option(boolean, True)


@yaml_section
class PeeringDbIncrement:
    absolute: int = option(uint, 100)
    relative: int = option(uint, 15)


@yaml_section
class MaxPrefixPeeringDb:
    enabled: bool = option(boolean, False)  # arouteserver: True (a PeeringDB lookup)
    increment: PeeringDbIncrement = section(PeeringDbIncrement)


@yaml_section
class MaxPrefix:
    peering_db: MaxPrefixPeeringDb = section(MaxPrefixPeeringDb)
    general_limit_ipv4: int = option(uint, 170000)
    general_limit_ipv6: int = option(uint, 12000)
    action: str | None = option(choice(*MAX_PREFIX_ACTIONS), None)  # None: no limit enforced
    restart_after: int = option(uint, 15)  # minutes
    count_rejected_routes: bool = option(boolean, True)


@yaml_section
class Roles:
    enabled: bool = option(boolean, False)
    strict_mode: bool = option(boolean, False)


@yaml_section
class RejectPolicy:
    policy: str = option(choice(*REJECT_POLICIES), "reject")


@yaml_section
class Filtering:
    next_hop: NextHop = section(NextHop)
    ipv4_pref_len: PrefixLenRange = option(prefix_len_range(4), PrefixLenRange(8, 24))
    ipv6_pref_len: PrefixLenRange = option(prefix_len_range(6), PrefixLenRange(12, 48))
    global_black_list_pref: tuple[PrefixListEntry, ...] = option(list_of(prefix_list_entry), ())
    max_as_path_len: int = option(integer(1, 64), 32)
    reject_invalid_as_in_as_path: bool = option(boolean, True)
    allow_as_set: bool = option(boolean, False)
    transit_free: TransitFree = section(TransitFree)
    never_via_route_servers: NeverViaRouteServers = section(NeverViaRouteServers)
    irrdb: Irrdb = section(Irrdb)
    rpki_bgp_origin_validation: RpkiCheck = section(RpkiCheck)
    rpki_aspa_verification: RpkiCheck = section(RpkiCheck)
    max_prefix: MaxPrefix = section(MaxPrefix)
    roles: Roles = section(Roles)
    reject_policy: RejectPolicy = section(RejectPolicy)


@yaml_section
class RpkiRoas:
    """Where arouteserver fetches ROAs; ixrs takes VRPs from `ixrs load-rpki` instead."""

    source: str = option(choice(*RPKI_ROAS_SOURCES), "ripe-rpki-validator-cache")
    ripe_rpki_validator_url: tuple[str, ...] = option(_urls, DEFAULT_RPKI_JSON_URLS)
    allowed_trust_anchors: tuple[str, ...] = option(list_of(text), DEFAULT_TRUST_ANCHORS)
    ignore_cache_files_older_than: int = option(uint, 21600)


@yaml_section
class RpkiAspas:
    source: str = option(choice(*RPKI_ASPAS_SOURCES), "json")
    json_url: tuple[str, ...] = option(_urls, DEFAULT_RPKI_JSON_URLS)
    allowed_trust_anchors: tuple[str, ...] = option(list_of(text), DEFAULT_TRUST_ANCHORS)
    ignore_cache_files_older_than: int = option(uint, 21600)


@yaml_section
class ClientCommunityPolicy:
    peering_db: bool = option(boolean, False)  # arouteserver: True (a PeeringDB lookup)
    action: str = option(choice(*CLIENT_COMMUNITY_ACTIONS), "add")


@yaml_section
class BlackholeFiltering:
    announce_to_client: bool = option(boolean, True)
    policy_ipv4: str | None = option(choice(*BLACKHOLE_POLICIES), None)  # None: no blackholing
    policy_ipv6: str | None = option(choice(*BLACKHOLE_POLICIES), None)
    rewrite_next_hop_ipv4: str | None = option(ip_address(4), None)
    rewrite_next_hop_ipv6: str | None = option(ip_address(6), None)
    add_noexport: bool = option(boolean, True)
    client_community: ClientCommunityPolicy = section(ClientCommunityPolicy)


@yaml_section
class GracefulShutdown:
    enabled: bool = option(boolean, False)
    local_pref: int = option(uint, 0)


@yaml_section
class Rfc1997WellKnownCommunities:
    policy: str = option(choice(*RFC1997_POLICIES), "pass")


def _router_ids(node: Node) -> tuple[str, ...]:
    ids = list_of(ip_address(4), single_ok=True)(node)
    if not ids:
        raise node.error("must not be empty")
    return ids


@yaml_section
class GeneralConfig:
    rs_as: int = external()
    router_id: tuple[str, ...] = option(_router_ids)
    prepend_rs_as: bool = option(boolean, False)
    path_hiding: bool = option(boolean, True)
    passive: bool = option(boolean, True)
    multihop: int | None = option(integer(0, 255), None)  # a TTL
    gtsm: bool = option(boolean, False)
    add_path: bool = option(boolean, False)
    rfc8950: bool = option(boolean, False)
    filtering: Filtering = section(Filtering)
    rpki_roas: RpkiRoas = section(RpkiRoas)
    rpki_aspas: RpkiAspas = section(RpkiAspas)
    blackhole_filtering: BlackholeFiltering = section(BlackholeFiltering)
    graceful_shutdown: GracefulShutdown = section(GracefulShutdown)
    rfc1997_wellknown_communities: Rfc1997WellKnownCommunities = section(
        Rfc1997WellKnownCommunities
    )
    rtt_thresholds: tuple[int, ...] = option(rtt_thresholds, ())
    communities: Communities = external(Communities())
    custom_communities: tuple[CustomCommunity, ...] = external(())

    def custom_community(self, name: str) -> CustomCommunity | None:
        return next((c for c in self.custom_communities if c.name == name), None)


def parse_general(document: Any, path: str) -> GeneralConfig:
    """Validate a general.yml document (as loaded from YAML); ConfigError names the field."""
    root = Node(path, "", document)
    root.mapping(allowed=("cfg",))
    cfg = root.child("cfg")
    if cfg.absent:
        raise cfg.error("missing: general.yml must have a top-level 'cfg:' section")
    cfg.mapping()
    rs_as = asn(cfg.child("rs_as").required())
    general = read_section(
        GeneralConfig,
        cfg,
        rs_as=rs_as,
        communities=parse_communities(cfg.child("communities"), rs_as),
        custom_communities=parse_custom_communities(cfg.child("custom_communities"), rs_as),
    )
    _check(general, cfg)
    return general


def _check(general: GeneralConfig, cfg: Node) -> None:
    """The rules that span several options, as arouteserver applies them."""
    _check_blackhole(general.blackhole_filtering, cfg.child("blackhole_filtering"))
    arin = general.filtering.irrdb.use_arin_bulk_whois_data
    if arin.enabled and not arin.source:
        raise cfg.at("filtering.irrdb.use_arin_bulk_whois_data.source").error(
            "missing: mandatory when use_arin_bulk_whois_data is enabled"
        )
    _check_reject_policy(general, cfg)
    _check_rtt(general, cfg)
    check_communities(cfg, general.communities, general.custom_communities, general.rs_as)


def _check_blackhole(blackhole: BlackholeFiltering, node: Node) -> None:
    for version in (4, 6):
        policy = getattr(blackhole, f"policy_ipv{version}")
        next_hop = getattr(blackhole, f"rewrite_next_hop_ipv{version}")
        if policy == "rewrite-next-hop" and not next_hop:
            raise node.child(f"rewrite_next_hop_ipv{version}").error(
                f"missing: mandatory when policy_ipv{version} is 'rewrite-next-hop'"
            )


def _check_reject_policy(general: GeneralConfig, cfg: Node) -> None:
    communities = cfg.child("communities")
    tagging = general.filtering.reject_policy.policy in ("tag", "tag_and_reject")
    if tagging and not general.communities.reject_cause.configured:
        raise communities.child("reject_cause").error(
            "missing: mandatory when filtering.reject_policy.policy is 'tag' or 'tag_and_reject'"
        )
    if tagging:
        return
    needs_tagging = "only allowed when filtering.reject_policy.policy is 'tag' or 'tag_and_reject'"
    for name in ("reject_cause", "rejected_route_announced_by"):
        if getattr(general.communities, name).configured:
            raise communities.child(name).error(needs_tagging)
    for entry in general.communities.reject_cause_map:
        if entry.community.configured:
            raise communities.at(f"reject_cause_map.{entry.code}").error(needs_tagging)


def _check_rtt(general: GeneralConfig, cfg: Node) -> None:
    if general.rtt_thresholds:
        return
    for name in RTT_COMMUNITIES:
        if getattr(general.communities, name).configured:
            raise cfg.child("rtt_thresholds").error(
                f"missing: cfg.communities.{name} needs the RTT thresholds"
            )
