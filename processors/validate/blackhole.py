"""BLACKHOLE requests (RFC 7999), as arouteserver's `blackhole_filtering` defines them.

A route is a blackhole request when a policy is configured for its address family and it
carries BLACKHOLE (65535:666) or the local `blackholing` community. Such a route skips the
RPKI and prefix-length steps (it is accepted once the earlier checks and the IRR checks
pass: RFC 7999 §3.3's "covered by a prefix the neighbour is authorized to advertise" is the
IRR check, with `allow_longer_prefixes` for more specifics).

arouteserver applies the policy on export; ixrs applies it on import, so the verdict's
attributes show what is propagated: BLACKHOLE added if missing, NEXT_HOP kept
(`propagate-unchanged`) or rewritten to the configured blackhole address
(`rewrite-next-hop`), and NO_EXPORT added (`add_noexport`, RFC 7999 §3.2). What stays
per client (`announce_to_client`, the client's RTBH community) is for the export policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from ixrs.config.general import GeneralConfig
from processors.validate.communities import BLACKHOLE, NO_EXPORT, Matcher, Tags
from schemas.attributes import Attributes


@dataclass(frozen=True, eq=False)
class BlackholePolicy:
    """RFC 7999 blackholing as `blackhole_filtering` configures it; `policy` by family."""

    policy: MappingProxyType[int, str | None]
    rewrite_next_hop: MappingProxyType[int, str | None]
    add_noexport: bool
    requested_by: Matcher  # the local `blackholing` community, besides 65535:666

    def enabled(self, version: int) -> bool:
        return self.policy[version] is not None


def blackhole_policy(general: GeneralConfig) -> BlackholePolicy:
    bh = general.blackhole_filtering
    return BlackholePolicy(
        policy=MappingProxyType({4: bh.policy_ipv4, 6: bh.policy_ipv6}),
        rewrite_next_hop=MappingProxyType(
            {4: bh.rewrite_next_hop_ipv4, 6: bh.rewrite_next_hop_ipv6}
        ),
        add_noexport=bh.add_noexport,
        requested_by=Matcher.of((general.communities.blackholing,)),
    )


def requested(policy: BlackholePolicy, attrs: Attributes) -> bool:
    return BLACKHOLE in attrs.communities or policy.requested_by.found_in(attrs)


def apply_policy(policy: BlackholePolicy, version: int, attrs: Attributes) -> Attributes:
    added = (BLACKHOLE, NO_EXPORT) if policy.add_noexport else (BLACKHOLE,)
    attrs = Tags(std=added).apply(attrs)
    if policy.policy[version] != "rewrite-next-hop":
        return attrs
    return replace(attrs, next_hop=policy.rewrite_next_hop[version], next_hop_link_local=None)
