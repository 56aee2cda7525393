"""The decisions in force: the latest Decision of every prefix, and nothing twice. Pure.

A prefix's decisions all come from one routes partition (prefixes are partitioned by
prefix), and a worker emits them in the order of their inputs: `Decision.input` is the
position of the routes event (or marker) that caused it, one decision per prefix and
input at most. After a crash a worker emits a suffix of that sequence again, with the
same event ids. So per input partition, the input offsets of fresh decisions never go
down: a decision below the highest offset seen is a re-emission, and at that offset a
prefix seen already is one too. Remembering one offset per input partition (plus the
prefixes of its last input) makes applying any decision twice a no-op, even when a
replayed older decision arrives after a newer one, which a per-prefix "latest wins"
check could not tell from a change once the prefix was withdrawn and forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator

from schemas.events import Decision, Position

# (input topic, input partition) -> (highest input offset, prefixes decided at it)
_Marks = dict[tuple[str, int], tuple[int, set[str]]]


class _Duplicate:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DUPLICATE"


DUPLICATE = _Duplicate()  # what DecisionTable.put says of a decision seen before


def removes(decision: Decision) -> bool:
    """Whether the decision withdraws its prefix from everyone (no best, no delta)."""
    return decision.best is None and not decision.outcomes


class DecisionTable:
    """prefix -> the Decision in force, with an index of the clients that have deltas."""

    __slots__ = ("_deltas", "_last", "_marks", "decisions", "duplicates")

    def __init__(self) -> None:
        self.decisions: dict[str, Decision] = {}
        self._marks: _Marks = {}
        # (the Position of the last fresh decision, the prefixes decided at it): the mark of
        # its source, as long as that mark is at its offset (fresh replaces both together)
        self._last: tuple[Position, set[str]] | None = None
        # client address -> prefixes whose decision in force has a delta for it; what
        # makes a full table cost one pass over the group's table plus these.
        self._deltas: dict[str, set[str]] = {}
        self.duplicates = 0

    def __len__(self) -> int:
        return len(self.decisions)

    def __iter__(self) -> Iterator[str]:
        return iter(self.decisions)

    def get(self, prefix: str) -> Decision | None:
        return self.decisions.get(prefix)

    def deltas_for(self, client: str) -> frozenset[str]:
        """The prefixes whose decision in force has a delta for this client."""
        return frozenset(self._deltas.get(client, ()))

    def fresh(self, decision: Decision) -> bool:
        """Whether the decision is new (not a re-emission); records it as seen."""
        position = decision.input
        last = self._last
        if last is not None and last[0] is position:
            # The input of the decision before (the decoder gives the decisions of one input
            # one Position object): its mark is the one at this very offset, found without
            # building the source key and looking it up.
            seen = last[1]
            if decision.prefix in seen:
                return False
            seen.add(decision.prefix)
            return True
        source = (position.topic, position.partition)
        mark = self._marks.get(source)
        if mark is not None:
            offset, seen = mark
            if position.offset < offset or (position.offset == offset and decision.prefix in seen):
                return False
            if position.offset == offset:
                seen.add(decision.prefix)
                self._last = (position, seen)
                return True
        seen = {decision.prefix}
        self._marks[source] = (position.offset, seen)
        self._last = (position, seen)  # the mark of its source now
        return True

    def apply(self, decision: Decision) -> bool:
        """Put a decision in force. False, and nothing changes, if it was seen before."""
        return self.put(decision) is not DUPLICATE

    def put(self, decision: Decision) -> Decision | _Duplicate | None:
        """`apply`, saying what it replaced: the decision in force before (None: none), or
        DUPLICATE if it was seen before (nothing changes). The outbound core needs the one
        before, and a lookup of its own in a table of every prefix is mostly cache misses."""
        prefix = decision.prefix
        last = self._last
        if last is not None and last[0] is decision.input:
            # fresh()'s first case, inline (a call per decision): the input of the decision
            # before, whose mark is the one at this very offset.
            seen = last[1]
            if prefix in seen:
                self.duplicates += 1
                return DUPLICATE
            seen.add(prefix)
        elif not self.fresh(decision):
            self.duplicates += 1
            return DUPLICATE
        deltas = self._deltas
        old = self.decisions.get(prefix)
        if old is not None:
            for outcome in old.outcomes:
                prefixes = deltas.get(outcome.client)
                if prefixes is not None:
                    prefixes.discard(prefix)
                    if not prefixes:
                        del deltas[outcome.client]
        if decision.best is None and not decision.outcomes:  # removes(decision)
            self.decisions.pop(prefix, None)
            return old
        self.decisions[prefix] = decision
        for outcome in decision.outcomes:
            # get first: setdefault would build an empty set for every delta
            prefixes = deltas.get(outcome.client)
            if prefixes is None:
                prefixes = deltas[outcome.client] = set()
            prefixes.add(prefix)
        return old
