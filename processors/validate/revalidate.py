"""Re-validation after a data-set change: which routes may change, and which did.

When a new version of a data set comes into force, a worker need not re-validate its whole
Adj-RIB-In. `DataChange.affects()` says whether a route's verdict can differ:

- RPKI: a route's RFC 6811 state depends only on the VRPs covering its prefix, so only
  routes under an added or removed VRP prefix, of clients whose policy uses VRPs;
- IRR: a changed origin-ASN list can change any route of the clients using that list; a
  changed prefix entry only the routes within it (with or without `allow_longer_prefixes`);
- bogons: any route (the list is small and rarely changes).

The worker re-validates those (batched by attribute set) and `changed_groups()` keeps the
prefixes whose outcome (accepted, reasons, attributes) differs from the verdict they had,
so that only those produce new verdict events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from processors.validate.client import ClientPolicy
from processors.validate.data import PolicyData
from processors.validate.net import Net, parse_prefix
from processors.validate.prefix_index import PrefixIndex, family_indexes
from schemas.attributes import Attributes
from schemas.events import Reason, VerdictGroup

Covering = dict[int, PrefixIndex[None]]
PrefixOutcome = tuple[bool, tuple[Reason, ...], Attributes | None]


def _index(prefixes: Iterable[str]) -> Covering:
    return family_indexes((parse_prefix(p), None) for p in set(prefixes))


def _covered(index: Covering, net: Net) -> bool:
    return next(index[net.version].covering(net.value, net.length), None) is not None


@dataclass(frozen=True, eq=False)
class DataChange:
    everything: bool = False
    vrps: Covering | None = None  # prefixes of VRPs added or removed
    irr_origins: frozenset[str] = frozenset()  # lists whose ASN members changed
    irr_prefixes: Mapping[str, Covering] = field(default_factory=dict)  # changed entries

    def affects(self, policy: ClientPolicy, data: PolicyData, prefix: str) -> bool:
        """Whether the verdict on this client's route for `prefix` may have changed."""
        if self.everything:
            return True
        try:
            net = parse_prefix(prefix)
        except ValueError:
            return False  # a malformed prefix stays malformed
        if self.vrps is not None and data.uses_vrps(policy) and _covered(self.vrps, net):
            return True
        for name in policy.irr.names if policy.irr is not None else ():
            if name in self.irr_origins:
                return True
            changed = self.irr_prefixes.get(name)
            if changed is not None and _covered(changed, net):
                return True
        return False


def data_change(old: PolicyData, new: PolicyData) -> DataChange:
    return DataChange(
        everything=old.bogons.version != new.bogons.version,
        vrps=_vrp_change(old, new),
        irr_origins=frozenset(
            name
            for name in set(old.irr) | set(new.irr)
            if _origins(old, name) != _origins(new, name)
        ),
        irr_prefixes={
            name: _index(entries)
            for name in set(old.irr) | set(new.irr)
            if (entries := _changed_entries(old, new, name))
        },
    )


def _vrp_change(old: PolicyData, new: PolicyData) -> Covering | None:
    before, after = old.vrps, new.vrps
    if (before.version if before else None) == (after.version if after else None):
        return None
    changed = set(before.vrps if before else ()) ^ set(after.vrps if after else ())
    return _index(vrp.prefix for vrp in changed)


def _origins(data: PolicyData, name: str) -> frozenset[int] | None:
    found = data.irr.get(name)
    return found.origin_asns if found is not None else None


def _changed_entries(old: PolicyData, new: PolicyData, name: str) -> set[str]:
    before, after = old.irr.get(name), new.irr.get(name)
    if before is not None and after is not None and before.version == after.version:
        return set()
    changed = set(before.prefixes if before else ()) ^ set(after.prefixes if after else ())
    return {entry.prefix for entry in changed}


def outcomes(groups: Iterable[VerdictGroup]) -> dict[str, PrefixOutcome]:
    return {p: (g.accepted, g.reasons, g.attributes) for g in groups for p in g.prefixes}


def changed_groups(
    previous: Mapping[str, PrefixOutcome], groups: Iterable[VerdictGroup]
) -> tuple[VerdictGroup, ...]:
    """`groups` cut down to the prefixes whose outcome is not the one in `previous`."""
    out = []
    for group in groups:
        now = (group.accepted, group.reasons, group.attributes)
        moved = tuple(p for p in group.prefixes if previous.get(p) != now)
        if moved:
            out.append(VerdictGroup(moved, group.accepted, group.reasons, group.attributes))
    return tuple(out)
