"""Max-prefix per session (RFC 7948 §4.3), as arouteserver's ``max_prefix`` defines it.

Pure bookkeeping: the set of prefixes a session currently announces, per address
family, and what to do when an UPDATE would take it over the limit. The speaker
acts on the answer (close, refuse, or only record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    SHUTDOWN = "shutdown"  # Cease/Maximum Number of Prefixes Reached, stay down
    RESTART = "restart"  # the same, and accept the peer again after restart_after
    BLOCK = "block"  # keep the session, refuse prefixes beyond the limit
    WARNING = "warning"  # only record it


@dataclass(frozen=True, slots=True)
class Limits:
    ipv4: int  # 0: no limit
    ipv6: int
    action: Action | None  # None: nothing is enforced, as in arouteserver
    restart_after_s: float = 15 * 60.0


@dataclass(frozen=True, slots=True)
class Outcome:
    exceeded: bool
    action: Action | None = None
    family: str = ""
    count: int = 0
    limit: int = 0
    refused: tuple[str, ...] = ()  # the announcements over the limit, not to pass on


def _family(prefix: str) -> str:
    return "ipv6" if ":" in prefix else "ipv4"


class PrefixCounter:
    """Prefixes one session currently announces."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._prefixes: dict[str, set[str]] = {"ipv4": set(), "ipv6": set()}
        self._warned: set[str] = set()

    def count(self, family: str) -> int:
        return len(self._prefixes[family])

    def _limit(self, family: str) -> int:
        return self.limits.ipv4 if family == "ipv4" else self.limits.ipv6

    def apply(self, announced: Iterable[str], withdrawn: Iterable[str]) -> Outcome:
        for prefix in withdrawn:
            self._prefixes[_family(prefix)].discard(prefix)
        # Two comprehensions rather than one loop choosing a list per prefix: this runs for
        # every prefix received.
        announced = announced if isinstance(announced, (list, tuple)) else list(announced)
        v4 = [prefix for prefix in announced if ":" not in prefix]
        v6 = [prefix for prefix in announced if ":" in prefix] if len(v4) < len(announced) \
            else []
        refused: list[str] = []
        over: tuple[str, int] | None = None
        for family, items in (("ipv4", v4), ("ipv6", v6)):
            current, limit = self._prefixes[family], self._limit(family)
            if not limit or self.limits.action is None or len(current) + len(items) <= limit:
                current.update(items)  # the common case, without a per-prefix check
                continue
            for prefix in items:
                if prefix in current:
                    continue  # an implicit withdraw and re-announce: the count stays
                if len(current) >= limit:
                    over = (family, limit)
                    if self.limits.action is not Action.WARNING:
                        # Never passed on: with "block" the session goes on without them,
                        # with "shutdown"/"restart" it closes right after this UPDATE.
                        refused.append(prefix)
                        continue
                current.add(prefix)
        if over is None:
            return Outcome(False)
        family, limit = over
        action = self.limits.action
        if action is Action.WARNING and family in self._warned:
            return Outcome(False)  # warn once per crossing, not per UPDATE
        self._warned.add(family)
        return Outcome(True, action, family, len(self._prefixes[family]) + len(refused), limit,
                       tuple(refused))
