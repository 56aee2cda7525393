"""Changes to UPDATE messages, shared across the members of a group. Pure.

A change set maps prefixes to what they are now sent with: attributes (announce) or None
(withdraw). `Runs` groups it by value, since one UPDATE carries one attribute set; the
codec's packer then puts each run into as few UPDATEs as fit, and says which prefixes went
into which message, so each message names the decisions that caused it.

A group packs its runs once, for all members. A member with its own changes (`overrides`:
prefix -> its own value, or SKIP for "nothing to send") re-packs only the runs its changes
touch, and takes the group's bytes objects for the others: everyone gets as few UPDATEs as
the prefixes allow, and members that differ on one prefix still share all other messages.
Members with the same overrides share their own messages too (cached by content).

Output order: withdrawals, then IPv4 announcements, then IPv6 ones, each in the order the
changes came. Within a run the packer's order is that of the prefixes' wire forms, so the
bytes depend on the content, not on how it was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from schemas.attributes import Attributes
from speaker.codec import Negotiated, pack_announcements_traced, pack_withdrawals_traced
from speaker.outbound.messages import Outgoing


class _Skip:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP"


SKIP = _Skip()  # an override meaning: this member is sent nothing for the prefix
Value = Attributes | None
Override = Attributes | None | _Skip


def _rank(value: Value) -> int:
    if value is None:
        return 0
    return 2 if value.next_hop is not None and ":" in value.next_hop else 1


class Runs:
    """Prefixes grouped by the value they are sent with; values are interned, so runs are
    keyed by identity."""

    __slots__ = ("order", "prefixes", "values")

    def __init__(self) -> None:
        self.values: dict[int, Value] = {}
        self.prefixes: dict[int, list[str]] = {}
        self.order: list[int] = []

    @classmethod
    def of(cls, changes: Mapping[str, Value]) -> Runs:
        runs = cls()
        values, prefixes = runs.values, runs.prefixes
        for prefix, value in changes.items():
            key = id(value)
            found = prefixes.get(key)
            if found is None:
                values[key] = value
                prefixes[key] = [prefix]
            else:
                found.append(prefix)
        runs.order = sorted(values, key=lambda k: _rank(values[k]))  # stable: first-come
        return runs

    def __bool__(self) -> bool:
        return bool(self.values)

    def only(self, version: int) -> Runs:
        """The announcement runs of one IP version."""
        out = Runs()
        rank = 1 if version == 4 else 2
        out.order = [k for k in self.order if _rank(self.values[k]) == rank]
        out.values = {k: self.values[k] for k in out.order}
        out.prefixes = {k: self.prefixes[k] for k in out.order}
        return out


class Packer:
    """Packs runs for one set of wire parameters, caching what it packed."""

    __slots__ = ("_cause", "_own", "_shared", "_wire")

    def __init__(self, wire: Negotiated, cause: Callable[[str], str]) -> None:
        self._wire = wire
        self._cause = cause  # prefix -> id of the decision that caused what it is sent
        self._shared: dict[int, list[Outgoing]] = {}
        # (value id, prefixes) -> (value, messages); the value is kept to check the id
        self._own: dict[tuple[int, frozenset[str]], tuple[Value, list[Outgoing]]] = {}

    def _pack(self, value: Value, prefixes: list[str]) -> list[Outgoing]:
        if value is None:
            packed = pack_withdrawals_traced(prefixes, self._wire)
        else:
            packed = pack_announcements_traced(value, prefixes, self._wire)
        cause = self._cause
        return [Outgoing(p.message, tuple(map(cause, p.prefixes))) for p in packed]

    def run(self, runs: Runs, key: int) -> list[Outgoing]:
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = self._pack(runs.values[key], runs.prefixes[key])
        return found

    def shared(self, runs: Runs) -> list[Outgoing]:
        """Every run, for the members without changes of their own."""
        return [message for key in runs.order for message in self.run(runs, key)]

    def member(
        self, runs: Runs, base: Mapping[str, Value], overrides: Mapping[str, Override]
    ) -> list[Outgoing]:
        """The runs with one member's overrides applied; `base` is the change set the runs
        were made of (prefix -> value), to find the runs an override takes a prefix from."""
        touched: set[int] = set()
        added: dict[int, tuple[Value, list[str]]] = {}
        for prefix, value in overrides.items():
            if prefix in base:
                touched.add(id(base[prefix]))
            if not isinstance(value, _Skip):
                key = id(value)
                touched.add(key)
                added.setdefault(key, (value, []))[1].append(prefix)
        fresh = [k for k in added if k not in runs.values]
        # stable: the group's runs keep their order, a member's new values come after them
        order = sorted([*runs.order, *fresh], key=lambda k: _rank(self._value(runs, added, k)))
        out: list[Outgoing] = []
        for key in order:
            if key not in touched:
                out += self.run(runs, key)
                continue
            mine = [p for p in runs.prefixes.get(key, ()) if p not in overrides]
            if key in added:
                mine += added[key][1]
            if not mine:
                continue
            value = self._value(runs, added, key)
            cache = (key, frozenset(mine))
            found = self._own.get(cache)
            if found is None or found[0] is not value:
                found = self._own[cache] = (value, self._pack(value, mine))
            out += found[1]
        return out

    @staticmethod
    def _value(runs: Runs, added: dict[int, tuple[Value, list[str]]], key: int) -> Value:
        return runs.values[key] if key in runs.values else added[key][0]
