"""A client's import policy, compiled once per configuration version from its settings.

Everything here depends only on the configuration: the next hops the client may use, its
black lists as indexes, its IRR names, the communities its routes get. The validation of a
batch reads it and does no configuration lookups.

Settings are the client's effective ones (`Client.settings`: general.yml with the client's
own on top), except where arouteserver reads general.yml only: RPKI `enabled`,
`irrdb.tag_as_set`, `allow_longer_prefixes`, `use_rpki_roas_as_route_objects`, the
`transit_free` and `never_via_route_servers` lists and the blackhole policy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import MappingProxyType

from ixrs.config import Client, RouteServerConfig
from ixrs.config.communities import BUILTIN_SPECS, INBOUND
from ixrs.config.general import GeneralConfig
from ixrs.config.prefixes import PrefixLenRange
from processors.validate.blackhole import BlackholePolicy, blackhole_policy
from processors.validate.bogons import rule_of
from processors.validate.communities import NO_TAGS, Matcher, Tags, render
from processors.validate.irr import IrrPolicy, irr_policy
from processors.validate.net import address_version, canonical_address
from processors.validate.prefix_index import PrefixList
from processors.validate.rpki import RpkiPolicy, rpki_policy
from processors.validate.tagging import Tagging, tagging

_ADDRESSES_LIMIT = 4096  # peer address spellings remembered by ImportPolicy.for_peer
DEFAULT_LOCAL_PREF = 100  # BIRD's `default bgp_local_pref` for routes learnt over eBGP


@dataclass(frozen=True, eq=False)
class ClientPolicy:
    client: Client
    config_version: str
    rs_as: int
    next_hops: frozenset[str] | None  # None: not checked (a link-local client address)
    max_as_path_len: int
    reject_invalid_asns: bool
    allow_as_set: bool
    transit_free: frozenset[int]  # empty unless `transit_free.action` is "reject"
    never_via: frozenset[int]
    global_black_list: PrefixList
    client_black_list: PrefixList
    pref_len: MappingProxyType[int, PrefixLenRange]
    irr: IrrPolicy | None  # None: no IRR step (nothing to enforce nor tag)
    rpki: RpkiPolicy
    blackhole: BlackholePolicy
    gshut_enabled: bool  # general.yml's graceful_shutdown.enabled
    gshut_honored: bool  # ... and the client's
    gshut_local_pref: int
    reject_policy: str  # reject, tag or tag_and_reject
    tagging: Tagging | None
    scrub: Matcher
    custom: Tags

    @property
    def asn(self) -> int:
        return self.client.asn

    @property
    def family(self) -> int:
        return self.client.ip_version

    @functools.cached_property
    def allowed_lengths(self) -> dict[int, frozenset[int]]:
        """`ipv4_pref_len`/`ipv6_pref_len` as sets: the check is one set lookup."""
        return {v: frozenset(range(r.min, r.max + 1)) for v, r in self.pref_len.items()}

    @property
    def tags_rejects(self) -> bool:
        return self.reject_policy in ("tag", "tag_and_reject") and self.tagging is not None

    @property
    def keeps_rejects(self) -> bool:
        """`tag`: failing routes are accepted (tagged, never exported)."""
        return self.reject_policy == "tag"


def compile_client(config: RouteServerConfig, client: Client) -> ClientPolicy:
    general, mine = config.general, client.settings.filtering
    transit_free = general.filtering.transit_free
    return ClientPolicy(
        client=client,
        config_version=config.version,
        rs_as=general.rs_as,
        next_hops=_next_hops(config, client),
        max_as_path_len=mine.max_as_path_len,
        reject_invalid_asns=mine.reject_invalid_as_in_as_path,
        allow_as_set=mine.allow_as_set,
        transit_free=(
            frozenset(transit_free.asns) - {client.asn}
            if transit_free.action == "reject"
            else frozenset()
        ),
        never_via=general.filtering.never_via_route_servers.all_asns,
        global_black_list=PrefixList(rule_of(e) for e in general.filtering.global_black_list_pref),
        client_black_list=PrefixList(rule_of(e) for e in mine.black_list_pref),
        pref_len=MappingProxyType({4: mine.ipv4_pref_len, 6: mine.ipv6_pref_len}),
        irr=irr_policy(general, client),
        rpki=rpki_policy(general, client),
        blackhole=blackhole_policy(general),
        gshut_enabled=general.graceful_shutdown.enabled,
        gshut_honored=general.graceful_shutdown.enabled
        and client.settings.graceful_shutdown.enabled,
        gshut_local_pref=general.graceful_shutdown.local_pref,
        reject_policy=mine.reject_policy.policy,
        tagging=tagging(general, client),
        scrub=_scrub(general),
        custom=_custom(general, client),
    )


def _next_hops(config: RouteServerConfig, client: Client) -> frozenset[str] | None:
    """RFC 7948 §4.8: the client's own address (`strict`), any address of its AS
    (`same-as`), or its `authorized_addresses`; of the session's address family."""
    if client.ip_version == 6 and client.ip.lower().startswith("fe80:"):
        return None  # as arouteserver: BIRD cannot check against a link-local peer
    policy = client.settings.filtering.next_hop
    if policy.policy == "strict":
        addresses: tuple[str, ...] = (client.ip,)
    elif policy.policy == "same-as":
        addresses = tuple(c.ip for c in config.clients if c.asn == client.asn)
    else:
        addresses = policy.authorized_addresses
    same_family = (a for a in addresses if address_version(a) == client.ip_version)
    return frozenset(canonical_address(a) for a in same_family)


def _scrub(general: GeneralConfig) -> Matcher:
    """RFC 7454 §11 as arouteserver's `scrub_communities_in()`: the route server's own
    signals (outbound and internal communities, custom ones) are removed from what clients
    send; the requests clients make (inbound ones) are kept for the export policy."""
    builtin = [
        getattr(general.communities, name)
        for name, spec in BUILTIN_SPECS.items()
        if spec["role"] != INBOUND
    ]
    mapped = [entry.community for entry in general.communities.reject_cause_map]
    custom = [c.community for c in general.custom_communities]
    return Matcher.of(builtin + mapped + custom)


def _custom(general: GeneralConfig, client: Client) -> Tags:
    tags = NO_TAGS
    for name in sorted(client.settings.attach_custom_communities):
        custom = general.custom_community(name)
        if custom is not None:
            tags = tags + render(custom.community)
    return tags


class ImportPolicy:
    """Every client's compiled policy under one configuration version, compiled on first use."""

    def __init__(self, config: RouteServerConfig) -> None:
        self.config = config
        self._by_ip: dict[str, ClientPolicy] = {}
        # By the address as events spell it: parsing it (`client_by_ip`) cost more than the
        # rest of a small batch. None is kept too: a session that is not a client stays so
        # for this configuration version.
        self._by_address: dict[str, ClientPolicy | None] = {}

    @property
    def version(self) -> str:
        return self.config.version

    def for_peer(self, address: str) -> ClientPolicy | None:
        """The policy of the client at this address; None if it is not a client."""
        try:
            return self._by_address[address]
        except KeyError:
            pass
        if len(self._by_address) >= _ADDRESSES_LIMIT:  # only spellings nobody configured
            self._by_address.clear()
        found = self._by_address[address] = self._compiled(address)
        return found

    def _compiled(self, address: str) -> ClientPolicy | None:
        client = self.config.client_by_ip(address)
        if client is None:
            return None
        found = self._by_ip.get(client.ip)
        if found is None:
            found = self._by_ip[client.ip] = compile_client(self.config, client)
        return found
