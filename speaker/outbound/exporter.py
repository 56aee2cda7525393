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

Equal route attributes are computed once per profile and IP version, and the wire check
once per attribute set and group: a batch's decisions often share their attribute sets (the
prefixes of one UPDATE), and so do the batches of a table (a few thousand attribute sets
over a million prefixes). The memos know route attributes, exported values and groups by
identity, so they hold the objects they know (ids stay unique) and are cleared whenever
those may go: the owner calls `clear()` when the pool is swept (a value computed again must
be the pool's object) and when a group is deleted; `end_batch()` only bounds their size.
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
MEMO_LIMIT = 65_536  # entries per memo kept from one batch to the next


class Exporter:
    __slots__ = (
        "_exports", "_policy", "_pool", "_routes", "_seen", "_settings", "_styled",
        "_values", "_wired", "styled_memo",
    )

    def __init__(self, policy: ExportPolicy, pool: Interner) -> None:
        self._policy = policy
        self._settings = policy.settings
        self._pool = pool
        self._routes: dict[Attributes, Attributes] = {}  # equal route attributes -> one
        # id of route attributes as a decision holds them -> (them, the equal ones in
        # _routes). Hashing an Attributes walks all its fields (a frozen dataclass does not
        # keep its hash), twice per decision; a batch's decisions mostly hold the same few
        # objects (the decoder interns them), so they are looked up by identity first. The
        # entry keeps them alive, so the id is not reused while it is cached.
        self._seen: dict[int, tuple[Attributes, Attributes]] = {}
        self._exports: dict[tuple[int, Profile, int], Attributes] = {}
        self._wired: dict[tuple[int, int, int], Attributes | None] = {}
        self._styled: dict[int, frozenset[str]] = {}  # id of route attributes in _routes
        # id of route attributes as a decision holds them -> styled(): what the outbound
        # core reads first, without a call (an entry's attributes are kept alive by _seen)
        self.styled_memo: dict[int, frozenset[str]] = {}
        # (id of route attributes as a decision holds them, id of the group, IP version)
        # -> group_value: one lookup per decision and group instead of three.
        self._values: dict[tuple[int, int, int], Attributes | None] = {}

    def end_batch(self) -> None:
        """A batch of decisions was applied: the memos stay, up to a bound. Kept across
        batches, a table's attribute sets are exported once instead of once per batch
        (which, with batches of a few thousand decisions over a few thousand attribute
        sets, was nearly once per decision)."""
        if len(self._seen) > MEMO_LIMIT or len(self._values) > MEMO_LIMIT \
                or len(self.styled_memo) > MEMO_LIMIT \
                or len(self._wired) > MEMO_LIMIT or len(self._exports) > MEMO_LIMIT:
            self.clear()

    def clear(self) -> None:
        self._routes.clear()
        self._seen.clear()
        self._exports.clear()
        self._wired.clear()
        self._styled.clear()
        self.styled_memo.clear()
        self._values.clear()

    def _route_attributes(self, attrs: Attributes) -> Attributes:
        """The one object of the memos equal to a decision's route attributes."""
        found = self._seen.get(id(attrs))
        if found is None:
            found = self._seen[id(attrs)] = (attrs, self._routes.setdefault(attrs, attrs))
        return found[1]

    def styled(self, decision: Decision | None) -> frozenset[str]:
        """The clients (addresses) whose attributes a peer-scoped request on the decision's
        best route changes, under this policy."""
        best = decision.best if decision is not None else None
        if best is None:
            return NOBODY
        # By the id of the attributes as the decision holds them, as _values: one lookup
        # per decision (kept alive by _seen, which _route_attributes fills on a miss).
        attrs = best.attributes
        found = self.styled_memo.get(id(attrs))
        if found is not None:
            return found
        route_attrs = self._route_attributes(attrs)
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
        self.styled_memo[id(attrs)] = found
        return found

    def group_value(self, decision: Decision, group: UpdateGroup) -> Attributes | None:
        """What a member of the group without a delta in this decision is sent."""
        best = decision.best
        if best is None:
            return None
        version = version_of(decision.prefix)
        if version not in group.key.versions:
            return None
        # Groups are known by id, as in _wired (the owner clears the memos when one goes);
        # the attributes are kept alive by _seen.
        key = (id(best.attributes), id(group), version)
        if key in self._values:
            return self._values[key]
        route_attrs = self._route_attributes(best.attributes)
        profile = group.key.profile
        export_key = (id(route_attrs), profile, version)
        exported = self._exports.get(export_key)
        if exported is None:
            exported = self._pool(profile_attributes(best, profile, self._settings, version))
            self._exports[export_key] = exported
        value = self._values[key] = self._wire(exported, version, group)
        return value

    def client_value(self, decision: Decision, client: Client) -> Attributes | None:
        """What this client is sent for the decision (`outcome_for`), on the wire."""
        version = version_of(decision.prefix)
        if version not in client.group.key.versions:
            return None
        ip = client.peer.ip
        for outcome in decision.outcomes:
            # A delta that gives the client nothing (most often: its own route is the only
            # one) is None whatever outcome_for would look at first; said here, it costs no
            # call.
            if outcome.client == ip:
                if outcome.route is None:
                    return None
                break
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
