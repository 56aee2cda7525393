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

from schemas.events import Decision

# (input topic, input partition) -> (highest input offset, prefixes decided at it)
_Marks = dict[tuple[str, int], tuple[int, set[str]]]


def removes(decision: Decision) -> bool:
    """Whether the decision withdraws its prefix from everyone (no best, no delta)."""
    return decision.best is None and not decision.outcomes


class DecisionTable:
    """prefix -> the Decision in force, with an index of the clients that have deltas."""

    __slots__ = ("_deltas", "_marks", "decisions", "duplicates")

    def __init__(self) -> None:
        self.decisions: dict[str, Decision] = {}
        self._marks: _Marks = {}
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
        source = (position.topic, position.partition)
        mark = self._marks.get(source)
        if mark is not None:
            offset, seen = mark
            if position.offset < offset or (position.offset == offset and decision.prefix in seen):
                return False
            if position.offset == offset:
                seen.add(decision.prefix)
                return True
        self._marks[source] = (position.offset, {decision.prefix})
        return True

    def apply(self, decision: Decision) -> bool:
        """Put a decision in force. False, and nothing changes, if it was seen before."""
        if not self.fresh(decision):
            self.duplicates += 1
            return False
        prefix = decision.prefix
        old = self.decisions.get(prefix)
        if old is not None:
            for outcome in old.outcomes:
                prefixes = self._deltas.get(outcome.client)
                if prefixes is not None:
                    prefixes.discard(prefix)
                    if not prefixes:
                        del self._deltas[outcome.client]
        if removes(decision):
            self.decisions.pop(prefix, None)
            return True
        self.decisions[prefix] = decision
        for outcome in decision.outcomes:
            self._deltas.setdefault(outcome.client, set()).add(prefix)
        return True
