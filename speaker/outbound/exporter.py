"""What a group, or one client, is sent for a decision: the export policy's attributes made
fit for the wire, interned. Pure.

A client without a delta in a decision is sent `profile_attributes(best, profile, ...)`
(`processors.export`), the same for every client of its profile; a client with one is sent
what `processors.views.outcome_for` says, the one function replay uses too. Both then go
through `wire.on_the_wire` for the session's wire parameters.

`styled(decision)` names the clients whose attributes a peer-scoped request on the best
route changes (prepend, NO_EXPORT or NO_ADVERTISE towards that peer): for them
`export_attributes` differs from `profile_attributes`. A worker gives each of them a delta,
but only under the configuration it decided with: after a reload (another ASN mapping, other
rules, a new client) a decision in force may name clients it has no delta for, so the
outbound core looks at them one by one too.

Within a batch, equal route attributes are computed once per profile and IP version, and
the wire check once per attribute set and group: a batch's decisions often share their
attribute sets (the prefixes of one UPDATE). `clear()` ends a batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processors.control import Request
from processors.export import ExportPolicy, Profile, profile_attributes
from processors.views import outcome_for
from schemas.attributes import Attributes
from schemas.events import Decision
from speaker.outbound.interning import Interner
from speaker.outbound.wire import on_the_wire, version_of

if TYPE_CHECKING:
    from speaker.outbound.groups import Client, UpdateGroup


_STYLE = frozenset({Request.PREPEND_PEER, Request.NO_EXPORT_PEER, Request.NO_ADVERTISE_PEER})
NOBODY: frozenset[str] = frozenset()


class Exporter:
    __slots__ = ("_exports", "_policy", "_pool", "_routes", "_settings", "_styled", "_wired")

    def __init__(self, policy: ExportPolicy, pool: Interner) -> None:
        self._policy = policy
        self._settings = policy.settings
        self._pool = pool
        self._routes: dict[Attributes, Attributes] = {}  # equal route attributes -> one
        self._exports: dict[tuple[int, Profile, int], Attributes] = {}
        self._wired: dict[tuple[int, int, int], Attributes | None] = {}
        self._styled: dict[int, frozenset[str]] = {}

    def clear(self) -> None:
        self._routes.clear()
        self._exports.clear()
        self._wired.clear()
        self._styled.clear()

    def styled(self, decision: Decision | None) -> frozenset[str]:
        """The clients (addresses) whose attributes a peer-scoped request on the decision's
        best route changes, under this policy."""
        best = decision.best if decision is not None else None
        if best is None:
            return NOBODY
        route_attrs = self._routes.setdefault(best.attributes, best.attributes)
        found = self._styled.get(id(route_attrs))
        if found is None:
            found = NOBODY
            named = self._settings.rules.read(route_attrs).named
            if named:
                policy = self._policy
                found = frozenset(
                    peer.ip
                    for (request, _), (std, value) in named
                    if request in _STYLE and value is not None
                    for peer in (policy.by_std if std else policy.by_asn).get(value, ())
                )
            self._styled[id(route_attrs)] = found
        return found

    def group_value(self, decision: Decision, group: UpdateGroup) -> Attributes | None:
        """What a member of the group without a delta in this decision is sent."""
        best = decision.best
        if best is None:
            return None
        version = version_of(decision.prefix)
        if version not in group.key.versions:
            return None
        route_attrs = self._routes.setdefault(best.attributes, best.attributes)
        profile = group.key.profile
        key = (id(route_attrs), profile, version)
        exported = self._exports.get(key)
        if exported is None:
            exported = self._pool(profile_attributes(best, profile, self._settings, version))
            self._exports[key] = exported
        return self._wire(exported, version, group)

    def client_value(self, decision: Decision, client: Client) -> Attributes | None:
        """What this client is sent for the decision (`outcome_for`), on the wire."""
        version = version_of(decision.prefix)
        if version not in client.group.key.versions:
            return None
        _route, attrs = outcome_for(decision, client.peer)
        if attrs is None:
            return None
        return self._wire(self._pool(attrs), version, client.group)

    def _wire(self, exported: Attributes, version: int, group: UpdateGroup) -> Attributes | None:
        key = (id(exported), id(group), version)
        if key in self._wired:
            return self._wired[key]
        value = on_the_wire(exported, version, group.key.wire)
        if value is not None and value is not exported:
            value = self._pool(value)
        self._wired[key] = value
        return value
