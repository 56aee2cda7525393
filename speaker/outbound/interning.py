"""One object per distinct attribute set, so the Adj-RIB-Out stores references. Pure.

Decisions arrive decoded from Avro: every prefix brings its own, equal but separate,
`Attributes`. Kept as they come, a group's table would hold one attribute object per prefix.
Interned, the prefixes that share an attribute set (most of a member's prefixes do) share one
object, the table costs one dict entry per prefix, and equal values are the same object, so
the outbound code compares them with `is`.

Entries are not reference counted: when the pool has grown to twice what was alive at the
last sweep, the owner calls `sweep` with every value still stored, which costs one pass over
the Adj-RIB-Out, amortised over as many new entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.attributes import Attributes

_MINIMUM = 1024


class Interner:
    __slots__ = ("_limit", "_values")

    def __init__(self) -> None:
        self._values: dict[Attributes, Attributes] = {}
        self._limit = _MINIMUM

    def __len__(self) -> int:
        return len(self._values)

    def __call__(self, value: Attributes) -> Attributes:
        """The one object equal to `value`."""
        return self._values.setdefault(value, value)

    def crowded(self) -> bool:
        return len(self._values) > self._limit

    def sweep(self, alive: Iterable[Attributes | None]) -> None:
        """Forget every value but those in `alive` (which must come from this pool)."""
        kept = {id(v): v for v in alive if v is not None}
        self._values = {v: v for v in kept.values()}
        self._limit = max(_MINIMUM, 2 * len(self._values))
