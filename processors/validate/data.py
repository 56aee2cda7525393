"""The data sets in force when routes are validated, and the references verdicts cite."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from processors.validate.bogons import DEFAULT_BOGONS, Bogons
from processors.validate.bogons import KIND as KIND_BOGONS
from processors.validate.client import ClientPolicy
from processors.validate.irr import IrrLists, irr_lists
from schemas.events import DataSetRef

if TYPE_CHECKING:
    from processors.datasets import IrrSet, VrpSet

# Data-set kinds (DataSetVersion.kind); processors.datasets uses these.
KIND_VRPS = "rpki-vrps"
KIND_IRR = "irr-prefixes"
NOT_LOADED = ""  # the version a DataSetRef gives for a data set that is not loaded
_REFS_LIMIT = 4096  # client policies whose references are kept; far more than an IXP has


@dataclass(frozen=True, eq=False)
class PolicyData:
    """VRPs, IRR lists by name (upper case) and bogons. Never changed: `with_*` gives a new
    one, so that the per-client merged IRR lists it memoizes stay right."""

    vrps: VrpSet | None = None
    irr: Mapping[str, IrrSet] = field(default_factory=lambda: MappingProxyType({}))
    bogons: Bogons = DEFAULT_BOGONS
    _memo: dict[Any, IrrLists] = field(default_factory=dict, repr=False)
    # Per-(client policy, attribute set) work of the chain (context.batch_of) and each
    # client's data-set references. They depend on these data sets, so they live here and
    # go with them: `init=False` makes every new PolicyData (`with_*`, `replace`) start
    # empty, whatever it is built from. Keys hold their policy, so its id is never reused.
    # validate.context.batch_of's cache; ordered, so that the oldest entry goes in O(1)
    _batches: OrderedDict[Any, Any] = field(default_factory=OrderedDict, init=False,
                                            repr=False)
    _refs: dict[ClientPolicy, tuple[DataSetRef, ...]] = field(
        default_factory=dict, init=False, repr=False
    )

    def with_vrps(self, vrps: VrpSet | None) -> PolicyData:
        return replace(self, vrps=vrps, _memo={})

    def with_irr(self, sets: Iterable[IrrSet], *, drop: Iterable[str] = ()) -> PolicyData:
        """These sets added or replaced (by name), and the `drop` names removed."""
        dropped = set(drop)
        merged = {name: s for name, s in self.irr.items() if name not in dropped}
        merged.update((s.name, s) for s in sets)
        return replace(self, irr=MappingProxyType(merged), _memo={})

    def with_bogons(self, bogons: Bogons) -> PolicyData:
        return replace(self, bogons=bogons, _memo={})

    def irr_lists(self, policy: ClientPolicy) -> IrrLists | None:
        """The client's IRR lists merged; computed once per distinct list of names and
        white lists, however many clients share them."""
        irr = policy.irr
        if irr is None:
            return None
        key = (
            irr.names,
            policy.asn,
            irr.allow_longer,
            irr.white_list_pref.rules,
            irr.white_list_asn,
        )
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = irr_lists(irr, policy.asn, self.irr)
        return found

    def uses_vrps(self, policy: ClientPolicy) -> bool:
        roas = policy.irr is not None and policy.irr.roas_as_route_objects
        return policy.rpki.enabled or roas

    def refs(self, policy: ClientPolicy) -> tuple[DataSetRef, ...]:
        """The data sets a verdict for this client depends on, at their versions here."""
        found = self._refs.get(policy)
        if found is None:
            if len(self._refs) >= _REFS_LIMIT:  # policies of old configuration versions
                self._refs.clear()
            found = self._refs[policy] = self._refs_of(policy)
        return found

    def _refs_of(self, policy: ClientPolicy) -> tuple[DataSetRef, ...]:
        refs = [DataSetRef(KIND_BOGONS, self.bogons.name, self.bogons.version)]
        if self.uses_vrps(policy):
            version = self.vrps.version if self.vrps is not None else NOT_LOADED
            refs.append(DataSetRef(KIND_VRPS, "vrps", version))
        for name in policy.irr.names if policy.irr is not None else ():
            found = self.irr.get(name)
            refs.append(DataSetRef(KIND_IRR, name, found.version if found else NOT_LOADED))
        return tuple(refs)
