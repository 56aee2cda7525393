"""Per-prefix checks on the prefix alone: address family, IPv6 global unicast, black lists,
bogons, prefix length.

| check | cause | rule |
|---|---|---|
| AFI | 65535 | the prefix is of the session's address family (no RFC 8950 yet) |
| global unicast | 10 | an IPv6 prefix is within 2000::/3 |
| global black list | 3 | not within a `global_black_list_pref` entry |
| client black list | 11 | not within a `black_list_pref` entry of the client |
| bogon | 2 | not within a bogon (processors.validate.bogons) |
| length | 13 | length within `ipv4_pref_len`/`ipv6_pref_len`; blackhole requests are exempt |

List entries follow BIRD's prefix-set semantics: `prefix/len{ge,le}` matches the prefixes
within prefix/len whose length is ge..le; ge defaults to len and le to the family's maximum
unless the entry is `exact` (ixrs.config.prefixes.PrefixListEntry.lengths).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from processors.validate.net import Net
from processors.validate.prefix_index import PrefixList, PrefixRule
from processors.validate.reasons import Step
from schemas.events import Reason

if TYPE_CHECKING:
    from processors.validate.context import Batch, Facts, Found

_GLOBAL_UNICAST_V6 = 0b001  # 2000::/3, RFC 4291 §2.4
_NOT_GLOBAL_UNICAST = Step.NOT_GLOBAL_UNICAST.reason("not within 2000::/3")


def check_afi(batch: Batch, facts: Sequence[Facts]) -> Found:
    family = batch.family
    return [(i, _afi(f.net, family)) for i, f in enumerate(facts) if f.net.version != family]


def _afi(net: Net, family: int) -> Reason:
    return Step.AFI.reason(f"an IPv{net.version} prefix on an IPv{family} session")


def check_global_unicast(batch: Batch, facts: Sequence[Facts]) -> Found:
    # A prefix shorter than /3 with these bits would have host bits set: none gets here.
    return [
        (i, _NOT_GLOBAL_UNICAST)
        for i, f in enumerate(facts)
        if f.net.version == 6 and f.net.value >> 125 != _GLOBAL_UNICAST_V6
    ]


def _listed(step: Step, rules: PrefixList, facts: Sequence[Facts], what: str) -> Found:
    match = rules.match
    return [
        (i, step.reason(f"within {what} entry {_entry(rule)}"))
        for i, f in enumerate(facts)
        if (rule := match(f.net)) is not None
    ]


def _entry(rule: PrefixRule) -> str:
    comment = f" ({rule.label})" if rule.label else ""
    return f"{rule.prefix}{{{rule.ge},{rule.le}}}{comment}"


def check_global_black_list(batch: Batch, facts: Sequence[Facts]) -> Found:
    return _listed(
        Step.GLOBAL_BLACK_LIST, batch.policy.global_black_list, facts, "global black list"
    )


def check_client_black_list(batch: Batch, facts: Sequence[Facts]) -> Found:
    return _listed(
        Step.CLIENT_BLACK_LIST, batch.policy.client_black_list, facts, "client black list"
    )


def check_bogon(batch: Batch, facts: Sequence[Facts]) -> Found:
    return _listed(Step.BOGON, batch.data.bogons.rules, facts, "bogon")


def check_length(batch: Batch, facts: Sequence[Facts]) -> Found:
    # Blackhole requests are exempt: RFC 7999 §3.2, they are usually more specific.
    allowed = batch.policy.allowed_lengths
    return [
        (i, _length(batch, f.net))
        for i, f in enumerate(facts)
        if f.net.length not in allowed[f.net.version] and not f.blackhole
    ]


def _length(batch: Batch, net: Net) -> Reason:
    limits = batch.policy.pref_len[net.version]
    return Step.PREFIX_LENGTH.reason(
        f"length {net.length} is not in {limits.min}-{limits.max} for IPv{net.version}"
    )
