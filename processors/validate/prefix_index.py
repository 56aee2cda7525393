"""Prefix lists with BIRD's `prefix{ge,le}` semantics, indexed for covering-prefix lookups.

An index files each entry under (its length, its network shifted right to that length). To
find the entries covering a route's prefix, walk the few lengths present in the list that are
not longer than the prefix: one dict lookup each. A VRP set of 400k entries has about 20
distinct lengths per family, an IRR list a handful, so a lookup costs a few dict probes.

The loops that walk `levels` are written out where they are hot (here and in rpki.py) rather
than through a generator, which would cost more than the lookups themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from processors.validate.net import BITS, Net, parse_prefix

T = TypeVar("T")

Level = tuple[int, int, dict[int, tuple[T, ...]]]  # (length, shift, network >> shift -> items)


class PrefixIndex(Generic[T]):
    """Items of one address family, filed by the prefix they belong to."""

    __slots__ = ("bits", "levels")

    def __init__(self, bits: int, entries: Iterable[tuple[int, int, T]]) -> None:
        by_length: dict[int, dict[int, list[T]]] = {}
        for value, length, item in entries:
            table = by_length.setdefault(length, {})
            table.setdefault(value >> (bits - length), []).append(item)
        self.bits = bits
        self.levels: tuple[Level[T], ...] = tuple(
            (length, bits - length, {key: tuple(items) for key, items in table.items()})
            for length, table in sorted(by_length.items())
        )

    def covering(self, value: int, length: int) -> Iterator[tuple[int, tuple[T, ...]]]:
        """(length, items) of every indexed prefix equal to or shorter than, and covering,
        the prefix value/length; shortest first."""
        for level, shift, table in self.levels:
            if level > length:
                return
            found = table.get(value >> shift)
            if found is not None:
                yield level, found

    def __len__(self) -> int:
        return sum(len(items) for _, _, table in self.levels for items in table.values())


@dataclass(frozen=True, slots=True)
class PrefixRule:
    """One prefix-list entry: routes within `prefix` whose length is in ge..le match it."""

    prefix: str
    ge: int
    le: int
    label: str = ""  # what the entry is, for reason details (a comment, a list name)

    @classmethod
    def exact(cls, prefix: str, label: str = "") -> PrefixRule:
        length = parse_prefix(prefix).length
        return cls(prefix, length, length, label)


def family_indexes(
    entries: Iterable[tuple[Net, T]],
) -> dict[int, PrefixIndex[T]]:
    """One PrefixIndex per address family (both always present, maybe empty)."""
    split: dict[int, list[tuple[int, int, T]]] = {4: [], 6: []}
    for net, item in entries:
        split[net.version].append((net.value, net.length, item))
    return {version: PrefixIndex(BITS[version], items) for version, items in split.items()}


# A PrefixList also keeps, per family, the set of /8 (IPv4) or /16 (IPv6) blocks its entries
# can match within: most routes are in none of a bogon or black list's blocks, and one set
# lookup then answers instead of a walk of every length.
GATE_BITS = {4: 8, 6: 16}
_MAX_GATE_SPAN = 16  # an entry shorter than the gate by more than this disables the gate


def _gate(
    bits: int, entries: list[tuple[int, int, tuple[int, int, PrefixRule]]]
) -> frozenset[int] | None:
    gate_bits = GATE_BITS[4 if bits == 32 else 6]
    blocks: set[int] = set()
    for value, length, (_, le, _) in entries:
        if length >= gate_bits:
            blocks.add(value >> (bits - gate_bits))
        elif le >= gate_bits:  # matches routes as long as the gate: every block within it
            span = gate_bits - length
            if span > _MAX_GATE_SPAN:
                return None
            first = value >> (bits - gate_bits)
            blocks.update(range(first, first + (1 << span)))
    return frozenset(blocks)


class PrefixList:
    """A set of PrefixRules; `match` returns the first rule that a prefix matches.

    With `longer`, every rule also matches all its more specifics, as bgpq4 `-R 32`/`-R 128`
    makes it (arouteserver's `allow_longer_prefixes`).
    """

    __slots__ = ("gates", "indexes", "rules")

    def __init__(self, rules: Iterable[PrefixRule], *, longer: bool = False) -> None:
        self.rules = tuple(rules)
        split: dict[int, list[tuple[int, int, tuple[int, int, PrefixRule]]]] = {4: [], 6: []}
        for rule in self.rules:
            net = parse_prefix(rule.prefix)
            le = BITS[net.version] if longer else rule.le
            split[net.version].append((net.value, net.length, (rule.ge, le, rule)))
        self.indexes = {v: PrefixIndex(BITS[v], entries) for v, entries in split.items()}
        self.gates = {v: _gate(BITS[v], entries) for v, entries in split.items()}

    def match(self, net: Net) -> PrefixRule | None:
        # chain._screened() makes this first test itself before it calls: keep the two alike
        version, value, length = net
        gate = self.gates[version]
        if gate is not None:
            shift = BITS[version] - GATE_BITS[version]
            if length >= GATE_BITS[version] and value >> shift not in gate:
                return None
        for level, shift, table in self.indexes[version].levels:
            if level > length:
                return None
            found = table.get(value >> shift)
            if found is not None:
                for ge, le, rule in found:
                    if ge <= length <= le:
                        return rule
        return None

    def __contains__(self, net: Net) -> bool:
        return self.match(net) is not None

    def __len__(self) -> int:
        return len(self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)


EMPTY = PrefixList(())
