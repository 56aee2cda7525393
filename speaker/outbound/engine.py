"""The outbound core: decisions in, per-client messages out. Pure (no sockets, no clock).

The transport calls, in log order for decisions and as sessions come and go:

- `apply(decisions)`: put decisions in force; each client is queued the UPDATEs for what
  really changed for it.
- `establish(address, negotiated)`: a session reached Established; it is queued its full
  table, then End-of-RIB per negotiated family (RFC 4724 §2).
- `refresh(address, family)`: a ROUTE-REFRESH came; the family's table again, between
  BoRR and EoRR when enhanced route refresh was negotiated (RFC 7313 §4).
- `drop(address)`: the session ended; its Adj-RIB-Out goes.
- `reconfigure(policy)`: a configuration reload; every client is queued the differences
  between what it was sent and what the new policy gives it.
- `take(address)`: the messages waiting for that socket, oldest first.

Each call returns a `Report`: what it queued per client, and the clients whose queue passed
its bound (their sessions must end, see `pending`).

While `ready` is False (the decisions topic is still being read up to its end at start),
sessions that come up wait, and get their full table when `mark_ready()` is called, so the
End-of-RIB they receive closes a complete table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from processors.export import ExportPolicy
from schemas.attributes import Attributes
from schemas.events import Decision
from speaker.codec import Family, Negotiated, RefreshSubtype, RouteRefresh, encode, end_of_rib
from speaker.outbound.exporter import Exporter
from speaker.outbound.groups import Client, GroupKey, UpdateGroup
from speaker.outbound.interning import Interner
from speaker.outbound.messages import Kind, Outgoing
from speaker.outbound.packing import SKIP, Override, Packer, Runs, Value
from speaker.outbound.pending import DEFAULT_LIMIT, PendingQueue
from speaker.outbound.table import DUPLICATE, DecisionTable
from speaker.outbound.wire import VERSION_OF, carried_versions, version_of, wire_params


@dataclass(frozen=True, slots=True)
class Report:
    """What one call did: per client address, the messages it queued (in order; clients of
    a group share the objects), and the clients whose queue overflowed in this call."""

    output: dict[str, tuple[Outgoing, ...]] = field(default_factory=dict)
    overflowed: tuple[str, ...] = ()

    def merged(self, other: Report) -> Report:
        output = dict(self.output)
        for address, messages in other.output.items():
            output[address] = output.get(address, ()) + messages
        return Report(output, self.overflowed + other.overflowed)


@dataclass(frozen=True, slots=True)
class Footprint:
    """The size of the Adj-RIB-Out, in entries (see the package docstring)."""

    clients: int
    groups: int
    group_entries: int  # prefixes x groups
    exceptions: int  # per-client entries, all clients together
    attribute_sets: int  # distinct interned attribute values


NOBODY: frozenset[str] = frozenset()
_Moved = tuple[Client, dict[str, Attributes | None]]  # a client, and its old exceptions


# client address -> the set of it alone: most decisions have one delta (the peer whose route
# won gets none), and _named makes its set once per changed prefix.
_ALONE: dict[str, frozenset[str]] = {}


def _named(decision: Decision | None, styled: frozenset[str]) -> frozenset[str]:
    """The clients a decision has a delta for, and those its best route styles."""
    if decision is None or not decision.outcomes:
        return styled
    outcomes = decision.outcomes
    if len(outcomes) == 1 and not styled:
        client = outcomes[0].client
        alone = _ALONE.get(client)
        if alone is None:
            if len(_ALONE) > 65_536:  # clients come and go: bounded, started again
                _ALONE.clear()
            alone = _ALONE[client] = frozenset((client,))
        return alone
    return styled.union(o.client for o in outcomes)


class Outbound:
    def __init__(
        self, policy: ExportPolicy, *, queue_limit: int = DEFAULT_LIMIT, ready: bool = True
    ) -> None:
        self.policy = policy
        self.table = DecisionTable()
        self.groups: dict[GroupKey, UpdateGroup] = {}
        self.clients: dict[str, Client] = {}
        self.ready = ready
        self.queue_limit = queue_limit
        self._waiting: dict[str, Negotiated] = {}
        self._overflowed: set[str] = set()
        self._pool = Interner()
        self._exporter = Exporter(policy, self._pool)
        # prefix -> the clients a peer-scoped request on its best route styles, under this
        # policy (see exporter.styled); only prefixes that have some.
        self._styled: dict[str, frozenset[str]] = {}

    # --- decisions -------------------------------------------------------------------

    def apply(self, decisions: Iterable[Decision]) -> Report:
        """Put the decisions in force, in order; queue every client's real changes."""
        causes: dict[str, str] = {}  # changed prefix -> id of the decision now in force
        previous: dict[str, Decision | None] = {}  # changed prefix -> decision before the batch
        # changed prefix -> the decision now in force (None: none), what table.get says after
        # this loop: the batch's own small dict, read below instead of the table's, which
        # holds every prefix (a lookup there is mostly cache misses).
        current: dict[str, Decision | None] = {}
        put = self.table.put
        for decision in decisions:
            old = put(decision)  # the decision it replaced, found by the table's own lookup
            if old is DUPLICATE:
                continue
            prefix = decision.prefix
            if prefix not in causes:
                previous[prefix] = old  # type: ignore[assignment]
            causes[prefix] = decision.event_id
            # removes(decision), inline: a call per decision
            current[prefix] = (None if decision.best is None and not decision.outcomes
                               else decision)
        if not causes:
            return Report()
        # Per changed prefix, the clients looked at one by one before the batch and now: those
        # with a delta, and those a request on the best route styles (see exporter.styled).
        # named_then holds only the prefixes that named someone before (a table's load names
        # nobody before: no entry, read with .get).
        named_then: dict[str, frozenset[str]] = {}
        named: dict[str, frozenset[str]] = {}
        styled = self._styled
        styled_by = self._exporter.styled
        styled_memo = self._exporter.styled_memo
        for prefix, old in previous.items():
            if old is not None:
                then = _named(old, styled.get(prefix, NOBODY) if styled else NOBODY)
                if then:
                    named_then[prefix] = then
            elif styled:
                then = styled.get(prefix, NOBODY)
                if then:
                    named_then[prefix] = then
            decision = current[prefix]
            # styled_by(decision), its memo read here first (a call per changed prefix)
            best = decision.best if decision is not None else None
            found = NOBODY if best is None else styled_memo.get(id(best.attributes))
            if found is None:
                found = styled_by(decision)
            if found:
                styled[prefix] = found
            elif styled:
                styled.pop(prefix, None)
            # _named(decision, found), its usual case inline (one delta, nobody styled): a
            # call per changed prefix
            outcomes = decision.outcomes if decision is not None else ()
            if len(outcomes) == 1 and not found:
                alone = _ALONE.get(outcomes[0].client)
                named[prefix] = alone if alone is not None else _named(decision, found)
            else:
                named[prefix] = _named(decision, found)
        output: dict[str, tuple[Outgoing, ...]] = {}
        for group in self.groups.values():
            group.full = None  # its causes may have changed even where its routes did not
            self._advance(group, causes, current, named_then, named, output)
        # The exporter's memos outlive the batch (see Exporter.end_batch); _sweep and _forget
        # clear them when what they rest on goes.
        self._exporter.end_batch()
        self._sweep()
        return self._deliver(output)

    def _advance(
        self,
        group: UpdateGroup,
        causes: dict[str, str],
        current: dict[str, Decision | None],
        named_then: dict[str, frozenset[str]],
        named: dict[str, frozenset[str]],
        output: dict[str, tuple[Outgoing, ...]],
    ) -> None:
        """Bring one group and its members up to the decisions in force for `causes`
        (`current`: the decision in force per prefix of `causes`), and make their messages."""
        versions = group.key.versions
        has4, has6 = 4 in versions, 6 in versions
        sent = group.sent
        members = group.members
        get = current.__getitem__
        then_of = named_then.get
        group_value = self._exporter.group_value
        client_value = self._exporter.client_value
        # id of the best route's attributes -> group_value, per IP version, for this call:
        # the decisions of a batch hold a few interned attribute objects, and a local lookup
        # costs less than the exporter's (a call and a tuple key per decision). The ids
        # stay theirs while `current` holds the decisions.
        values4: dict[int, Value] = {}
        values6: dict[int, Value] = {}
        changes: dict[str, Value] = {}  # what every member without an override is sent
        overrides: dict[str, dict[str, Override]] = {}  # member -> its own changes
        for prefix in causes:
            if ":" in prefix:
                if not has6:
                    continue  # nobody in this group was or will be sent it
                values = values6
            elif has4:
                values = values4
            else:
                continue
            decision = get(prefix)
            best = decision.best if decision is not None else None
            if best is None:
                new = None
            else:
                key = id(best.attributes)
                new = values.get(key, SKIP)  # type: ignore[arg-type]
                if new is SKIP:
                    new = values[key] = group_value(decision, group)  # type: ignore[arg-type]
            old = sent.get(prefix)
            if new is not old:
                if new is None:
                    del sent[prefix]
                else:
                    sent[prefix] = new
                changes[prefix] = shared = new
            else:
                shared = SKIP  # what changes.get(prefix, SKIP) would say
            # Members named before (maybe an exception) or now are looked at one by one.
            named_before, named_now = then_of(prefix, NOBODY), named[prefix]
            if not named_before:
                if not named_now:
                    continue
                names = named_now  # the usual case: no set made for the union
            else:
                names = named_before | named_now if named_now else named_before
            for address in sorted(names) if len(names) > 1 else names:
                client = members.get(address)
                if client is None:
                    continue
                exceptions = client.exceptions
                before = exceptions.get(prefix, old)  # a stored None is "nothing"
                if address in named_now:
                    # client_value's first answer, inline (a call per named client): a delta
                    # that gives the client nothing, most often because the route is its own
                    # (the group carries the prefix's IP version: checked above).
                    after = SKIP
                    for outcome in decision.outcomes:  # type: ignore[union-attr]
                        if outcome.client == address:
                            if outcome.route is None:
                                after = None
                            break
                    if after is SKIP:
                        after = client_value(decision, client)  # type: ignore[arg-type]
                else:
                    after = new
                if after is new:
                    exceptions.pop(prefix, None)
                else:
                    exceptions[prefix] = after
                mine: Override = SKIP if after is before else after
                if mine is not shared:
                    member_changes = overrides.get(address)  # not setdefault: a dict per call
                    if member_changes is None:
                        member_changes = overrides[address] = {}
                    member_changes[prefix] = mine
        if not changes and not overrides:
            return
        packer = Packer(group.key.wire, causes.__getitem__)
        runs = Runs.of(changes)
        common = tuple(packer.shared(runs))
        for address in members:
            own = overrides.get(address)
            messages = tuple(packer.member(runs, changes, own)) if own else common
            if messages:
                output[address] = messages

    # --- sessions ----------------------------------------------------------------------

    def establish(self, address: str, negotiated: Negotiated) -> Report:
        """A session came up: queue its full table and the End-of-RIB markers."""
        self._forget(address)
        if not self.ready:
            self._waiting[address] = negotiated
            return Report()
        peer = self.policy.peer(address)
        if peer is None:
            raise KeyError(f"{address} is not a client in the configuration")
        key = GroupKey(
            peer.profile, carried_versions(peer.families, negotiated), wire_params(negotiated)
        )
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = self._new_group(key)
        client = Client(peer, negotiated, group, PendingQueue(self.queue_limit))
        group.members[address] = client
        self.clients[address] = client
        self._find_exceptions(client)
        self._exporter.clear()
        messages: list[Outgoing] = []
        for family in sorted(negotiated.families):
            version = VERSION_OF.get(family)
            if version in key.versions:
                messages += self._full_table(client, version)
            messages.append(Outgoing(end_of_rib(family, negotiated), (), Kind.END_OF_RIB))
        self._sweep()
        return self._deliver({address: tuple(messages)})

    def _find_exceptions(self, client: Client) -> None:
        """Fill in a client's exceptions: where the decision in force has a delta for it or
        its best route's requests style it, and that makes it differ from its group."""
        address = client.ip
        group = client.group
        versions = group.key.versions
        prefixes = set(self.table.deltas_for(address))
        prefixes.update(p for p, found in self._styled.items() if address in found)
        decisions = self.table.decisions
        client_value = self._exporter.client_value
        for prefix in sorted(prefixes):
            if version_of(prefix) not in versions:
                continue
            value = client_value(decisions[prefix], client)
            if value is not group.sent.get(prefix):
                client.exceptions[prefix] = value

    # --- configuration -----------------------------------------------------------------

    def reconfigure(self, policy: ExportPolicy) -> Report:
        """A configuration reload: the new policy applies from now on. Each established
        client that is still a client is queued what differs between what it was sent and
        what the new policy gives it over the decisions in force (new attributes, or a
        withdrawal of what it may no longer receive); a client no longer configured is
        forgotten (the transport closes its session, RFC 4486 Cease)."""
        self.policy = policy
        self._exporter = exporter = Exporter(policy, self._pool)
        self._waiting = {a: n for a, n in self._waiting.items() if policy.peer(a) is not None}
        decisions = self.table.decisions
        self._styled = {}
        for prefix, decision in decisions.items():
            found = exporter.styled(decision)
            if found:
                self._styled[prefix] = found
        # Every member moves to a group of the new policy; members that move from one old
        # group to one new group share their changes. The old groups live until the diff
        # is made: the Adj-RIB-Out briefly holds both.
        groups: dict[GroupKey, UpdateGroup] = {}
        moves: dict[tuple[int, GroupKey], tuple[UpdateGroup, UpdateGroup, list[_Moved]]] = {}
        for address, client in list(self.clients.items()):
            peer = policy.peer(address)
            if peer is None:
                del self.clients[address]
                continue
            key = GroupKey(
                peer.profile,
                carried_versions(peer.families, client.negotiated),
                wire_params(client.negotiated),
            )
            group = groups.get(key)
            if group is None:
                group = groups[key] = self._new_group(key)
            old_group, old_exceptions = client.group, client.exceptions
            client.peer, client.group, client.exceptions = peer, group, {}
            group.members[address] = client
            self._find_exceptions(client)
            move = moves.get((id(old_group), key))
            if move is None:
                move = moves[(id(old_group), key)] = (old_group, group, [])
            move[2].append((client, old_exceptions))
        self.groups = groups
        output: dict[str, tuple[Outgoing, ...]] = {}
        for old_group, group, moved in moves.values():
            self._diff(old_group, group, moved, output)
        del moves
        exporter.clear()
        self._sweep()
        return self._deliver(output)

    def _diff(
        self,
        old: UpdateGroup,
        new: UpdateGroup,
        moved: list[_Moved],
        output: dict[str, tuple[Outgoing, ...]],
    ) -> None:
        """The messages that take the clients that moved from `old` to `new` from what they
        were sent to what they are sent now."""
        decisions = self.table.decisions
        old_sent, new_sent = old.sent, new.sent
        changes: dict[str, Value] = {}
        for prefix in decisions:
            value = new_sent.get(prefix)
            if value is not old_sent.get(prefix):
                changes[prefix] = value
        packer = Packer(new.key.wire, lambda prefix: decisions[prefix].event_id)
        runs = Runs.of(changes)
        common: tuple[Outgoing, ...] | None = None
        for client, was in moved:
            exceptions = client.exceptions
            own: dict[str, Override] = {}
            for prefix in sorted(was.keys() | exceptions.keys()):
                before = was[prefix] if prefix in was else old_sent.get(prefix)
                after = exceptions[prefix] if prefix in exceptions else new_sent.get(prefix)
                mine: Override = SKIP if after is before else after
                if mine is not changes.get(prefix, SKIP):
                    own[prefix] = mine
            if own:
                messages = tuple(packer.member(runs, changes, own))
            else:
                if common is None:
                    common = tuple(packer.shared(runs))
                messages = common
            if messages:
                output[client.ip] = messages

    def refresh(self, address: str, family: Family) -> Report:
        """A ROUTE-REFRESH for `family` (RFC 2918, RFC 7313): queue that table again."""
        client = self.clients.get(address)
        if client is None or family not in client.negotiated.families:
            return Report()  # RFC 2918 §4: a family not negotiated is ignored
        version = VERSION_OF.get(family)
        routes = self._full_table(client, version) if version in client.group.key.versions else []
        if not client.negotiated.enhanced_route_refresh:
            return self._deliver({address: tuple(routes)})
        negotiated = client.negotiated
        borr = encode(RouteRefresh(family[0], family[1], RefreshSubtype.BEGIN), negotiated)
        eorr = encode(RouteRefresh(family[0], family[1], RefreshSubtype.END), negotiated)
        messages = (Outgoing(borr, (), Kind.BORR), *routes, Outgoing(eorr, (), Kind.EORR))
        return self._deliver({address: messages})

    def mark_ready(self) -> Report:
        """The decisions in force are complete: the sessions that waited get their tables."""
        self.ready = True
        report = Report()
        waiting, self._waiting = self._waiting, {}
        for address, negotiated in waiting.items():
            report = report.merged(self.establish(address, negotiated))
        return report

    def drop(self, address: str) -> None:
        """The session ended: forget what it was sent and what waits for it."""
        self._forget(address)
        self._overflowed.discard(address)

    def _forget(self, address: str) -> None:
        self._waiting.pop(address, None)
        client = self.clients.pop(address, None)
        if client is None:
            return
        client.leave()
        if not client.group.members:
            del self.groups[client.group.key]
            self._exporter.clear()  # its memos know groups by id

    def _new_group(self, key: GroupKey) -> UpdateGroup:
        group = UpdateGroup(key)
        value = self._exporter.group_value
        sent = group.sent
        for prefix, decision in self.table.decisions.items():
            if version_of(prefix) in key.versions:
                found = value(decision, group)
                if found is not None:
                    sent[prefix] = found
        self._exporter.clear()
        return group

    def _full_table(self, client: Client, version: int) -> list[Outgoing]:
        """Every route the client is sent in one IP version, packed; what its Adj-RIB-Out
        says it was sent."""
        group = client.group
        if group.full is None:
            decisions = self.table.decisions
            group.full = (
                Runs.of(group.sent),
                Packer(group.key.wire, lambda prefix: decisions[prefix].event_id),
            )
        runs, packer = group.full  # type: ignore[misc]
        runs = runs.only(version)
        overrides: dict[str, Override] = {
            prefix: SKIP if value is None else value
            for prefix, value in client.exceptions.items()
            if version_of(prefix) == version
        }
        if overrides:
            return packer.member(runs, group.sent, overrides)
        return packer.shared(runs)

    # --- queues --------------------------------------------------------------------------

    def _deliver(self, output: dict[str, tuple[Outgoing, ...]]) -> Report:
        overflowed: list[str] = []
        for address, messages in output.items():
            client = self.clients[address]
            if not client.queue.put(messages):
                overflowed.append(address)
        for address in overflowed:
            # Its Adj-RIB-Out no longer says what it was told: only a new session mends it.
            del output[address]
            self._forget(address)
            self._overflowed.add(address)
        return Report(output, tuple(overflowed))

    def take(self, address: str, max_octets: int | None = None) -> list[Outgoing]:
        """The messages waiting for the client, oldest first: up to `max_octets` of them,
        and at least one if any wait."""
        client = self.clients.get(address)
        return client.queue.take(max_octets) if client is not None else []

    def pending(self, address: str) -> int:
        """Octets (roughly) waiting for the client."""
        client = self.clients.get(address)
        return client.queue.size if client is not None else 0

    def overflowed(self, address: str) -> bool:
        """Whether the client's queue overflowed: its session must end (see `pending`)."""
        return address in self._overflowed

    # --- inspection ----------------------------------------------------------------------

    def sent_to(self, address: str) -> dict[str, Attributes]:
        """The client's Adj-RIB-Out: every prefix it was sent, with its attributes."""
        client = self.clients.get(address)
        return client.table() if client is not None else {}

    def footprint(self) -> Footprint:
        return Footprint(
            clients=len(self.clients),
            groups=len(self.groups),
            group_entries=sum(len(g.sent) for g in self.groups.values()),
            exceptions=sum(len(c.exceptions) for c in self.clients.values()),
            attribute_sets=len(self._pool),
        )

    def _stored(self) -> Iterator[Attributes | None]:
        for group in self.groups.values():
            yield from group.sent.values()
        for client in self.clients.values():
            yield from client.exceptions.values()

    def _sweep(self) -> None:
        if self._pool.crowded():
            self._pool.sweep(self._stored())
            # Values the exporter remembers may have left the pool: computed again, they must
            # come out as the pool's objects, which values are compared by. (Sweeps come as
            # the pool doubles: a table's load has a few.)
            self._exporter.clear()
