"""IRR checks (reject causes 9 and 12): origin ASN and prefix in the client's AS-SETs.

As arouteserver's `verify_<client>_irrdb()`:

1. `origin_ok`: the route's origin (the right-most ASN; none when the path ends in an
   AS_SET) is one of the ASNs of the client's lists, its own ASN or its `white_list_asn`.
   Computed only when enforced or tagged (`tag_as_set`), else False.
2. `prefix_ok`: the prefix matches the client's prefix lists (bgpq4's exact/ge/le entries;
   with `allow_longer_prefixes`, any more specific of an entry too) or its
   `white_list_pref`. Computed only when enforced or tagged, else False.
3. `validated`: with `use_rpki_roas_as_route_objects`, a route whose origin is OK and that is
   RPKI VALID is validated (a ROA stands in for a route object); otherwise a matching
   `white_list_route` entry (with its origin ASN, if it names one) validates it.
4. Unless validated: a bad origin is cause 9 when `enforce_origin_in_as_set`, a bad prefix
   cause 12 when `enforce_prefix_in_as_set`. Both may apply.

A list that is not loaded is empty, as an AS-SET arouteserver finds empty: its routes fail
the check, and the reason says which lists were missing. They are re-validated when it loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ixrs.config import Client
from ixrs.config.communities import CommunitySet
from ixrs.config.general import GeneralConfig
from ixrs.config.prefixes import PrefixListEntry
from processors.validate.bogons import rule_of
from processors.validate.communities import NO_TAGS, Tags, render
from processors.validate.net import BITS, Net, parse_prefix
from processors.validate.prefix_index import PrefixIndex, PrefixList, PrefixRule, family_indexes
from processors.validate.reasons import Step

if TYPE_CHECKING:
    from processors.datasets import IrrSet
    from processors.validate.context import Batch, Facts, Found

VALIDATED_BY_ROAS = "rpki-roas"
VALIDATED_BY_WHITE_LIST = "white-list"


@dataclass(frozen=True, eq=False)
class IrrPolicy:
    """What the IRR step needs: the lists to look up and what to do with the answer.

    `names` are the data-set names of the client's IRR lists: `AS<asn>` always, as in
    arouteserver (its "worst case" bundle), then its AS-SETs (its own, else its AS's in the
    `asns:` section), upper case.
    """

    names: tuple[str, ...]
    enforce_origin: bool
    enforce_prefix: bool
    tag: bool  # add the *_present_in_as_set communities (general `tag_as_set`)
    allow_longer: bool
    roas_as_route_objects: bool
    white_list_pref: PrefixList
    white_list_asn: frozenset[int]
    # (ge, le, origin ASN or None) by prefix
    white_list_route: dict[int, PrefixIndex[tuple[int, int, int | None]]]
    origin_present: Tags = NO_TAGS
    origin_not_present: Tags = NO_TAGS
    prefix_present: Tags = NO_TAGS
    prefix_not_present: Tags = NO_TAGS
    via_roas: Tags = NO_TAGS
    via_white_list: Tags = NO_TAGS

    @property
    def origin_needed(self) -> bool:
        return self.enforce_origin or self.tag

    @property
    def prefix_needed(self) -> bool:
        return self.enforce_prefix or self.tag


_TAG_NAMES = (
    "origin_present_in_as_set",
    "origin_not_present_in_as_set",
    "prefix_present_in_as_set",
    "prefix_not_present_in_as_set",
    "prefix_validated_via_rpki_roas",
    "route_validated_via_white_list",
)


def irr_names(client: Client) -> tuple[str, ...]:
    own = f"AS{client.asn}"
    sets = tuple(name.upper() for name in client.settings.filtering.irrdb.as_sets)
    return (own, *(name for name in sets if name != own))


def irr_policy(general: GeneralConfig, client: Client) -> IrrPolicy | None:
    mine, base = client.settings.filtering.irrdb, general.filtering.irrdb
    communities = general.communities
    # tag_as_set without any of its communities configured would change nothing: no lookups.
    tag = base.tag_as_set and any(getattr(communities, name).configured for name in _TAG_NAMES)
    if not (mine.enforce_origin_in_as_set or mine.enforce_prefix_in_as_set or tag):
        return None
    routes = family_indexes(
        (parse_prefix(f"{r.entry.prefix}/{r.entry.length}"), (*_bounds(r.entry), r.asn))
        for r in mine.white_list_route
    )

    def tags(community: CommunitySet) -> Tags:
        return render(community) if tag else NO_TAGS  # arouteserver: only with tag_as_set

    return IrrPolicy(
        names=irr_names(client),
        enforce_origin=mine.enforce_origin_in_as_set,
        enforce_prefix=mine.enforce_prefix_in_as_set,
        tag=tag,
        allow_longer=base.allow_longer_prefixes,
        roas_as_route_objects=base.use_rpki_roas_as_route_objects.enabled,
        white_list_pref=PrefixList(rule_of(e) for e in mine.white_list_pref),
        white_list_asn=frozenset(mine.white_list_asn),
        white_list_route=routes,
        origin_present=tags(communities.origin_present_in_as_set),
        origin_not_present=tags(communities.origin_not_present_in_as_set),
        prefix_present=tags(communities.prefix_present_in_as_set),
        prefix_not_present=tags(communities.prefix_not_present_in_as_set),
        via_roas=tags(communities.prefix_validated_via_rpki_roas),
        via_white_list=tags(communities.route_validated_via_white_list),
    )


def _bounds(entry: PrefixListEntry) -> tuple[int, int]:
    return entry.lengths.start, entry.lengths.stop - 1


@dataclass(frozen=True, eq=False)
class IrrLists:
    """The union of a client's IRR lists, as loaded, with its white lists."""

    asns: frozenset[int]
    prefixes: PrefixList
    missing: tuple[str, ...]  # names of lists with no data loaded


def irr_lists(policy: IrrPolicy, asn: int, sets: Mapping[str, IrrSet]) -> IrrLists:
    asns = {asn, *policy.white_list_asn}
    rules: list[PrefixRule] = list(policy.white_list_pref.rules)
    missing = []
    for name in policy.names:
        found = sets.get(name)
        if found is None:
            missing.append(name)
            continue
        asns |= found.origin_asns
        rules += (_widen(r) for r in found.rules) if policy.allow_longer else found.rules
    return IrrLists(frozenset(asns), PrefixList(rules), tuple(missing))


def _widen(rule: PrefixRule) -> PrefixRule:
    """bgpq4 `-R 32|128`, as arouteserver runs it for `allow_longer_prefixes`."""
    return PrefixRule(rule.prefix, rule.ge, BITS[parse_prefix(rule.prefix).version], rule.label)


class IrrFacts(NamedTuple):
    origin_ok: bool
    prefix_ok: bool
    validated_by: str  # "" when not validated


_new = tuple.__new__


def irr_facts(batch: Batch, net: Net, rpki_state: int | None) -> IrrFacts:
    lists = batch.irr_lists
    assert lists is not None
    origin_ok = batch.origin_in_irr
    prefix_ok = batch.irr_prefix_needed and lists.prefixes.match(net) is not None
    if batch.roa_validates and rpki_state == 0:  # RFC 6811 VALID
        return _new(IrrFacts, (origin_ok, prefix_ok, VALIDATED_BY_ROAS))
    if batch.white_list_route and _white_listed(batch, net):
        return _new(IrrFacts, (origin_ok, prefix_ok, VALIDATED_BY_WHITE_LIST))
    return _new(IrrFacts, (origin_ok, prefix_ok, ""))


def _white_listed(batch: Batch, net: Net) -> bool:
    policy = batch.policy.irr
    assert policy is not None
    origin, length = batch.origin, net.length
    for level, shift, table in policy.white_list_route[net.version].levels:
        if level > length:
            return False
        for ge, le, asn in table.get(net.value >> shift, ()):
            if ge <= length <= le and (asn is None or asn == origin):
                return True
    return False


def check_origin(batch: Batch, facts: Sequence[Facts]) -> Found:
    failing = [i for i, f in enumerate(facts) if not (f.irr.origin_ok or f.irr.validated_by)]  # type: ignore[union-attr]
    if not failing:
        return []
    origin = "none (AS_SET)" if batch.origin is None else f"AS{batch.origin}"
    reason = Step.IRR_ORIGIN.reason(f"origin {origin} is not in {_lists(batch)}")
    return [(i, reason) for i in failing]


def check_prefix(batch: Batch, facts: Sequence[Facts]) -> Found:
    failing = [i for i, f in enumerate(facts) if not (f.irr.prefix_ok or f.irr.validated_by)]  # type: ignore[union-attr]
    if not failing:
        return []
    assert batch.policy.irr is not None
    longer = " or more specific" if batch.policy.irr.allow_longer else ""
    reason = Step.IRR_PREFIX.reason(f"no route object{longer} in {_lists(batch)}")
    return [(i, reason) for i in failing]


def _lists(batch: Batch) -> str:
    policy, lists = batch.policy.irr, batch.irr_lists
    assert policy is not None and lists is not None
    text = ", ".join(policy.names)
    return f"{text} (not loaded: {', '.join(lists.missing)})" if lists.missing else text
