"""A bounded queue of messages waiting for one client's socket. Pure.

The outbound core queues every message it makes for a client here; the transport takes
them when the socket can take more. The queue counts what it holds (message octets, plus a
pointer per decision id) and refuses to hold more than its bound: the first `put` past it
empties the queue and marks it overflowed, and nothing is queued after that.

A client whose queue overflows has missed messages, so its Adj-RIB-Out no longer says what
it was told: its session must end. If the peer has stopped reading, the Send Hold Timer
(RFC 9687) ends it; if it reads, but too slowly to keep up, the transport closes it (Cease,
Out of Resources, RFC 4486 §4). Either way the client comes back with a new session and a
full table, and a stuck client never holds more than the bound.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from speaker.outbound.messages import Outgoing

DEFAULT_LIMIT = 64 * 1024 * 1024  # octets: several full tables of a large IXP


def cost(message: Outgoing) -> int:
    """What a queued message holds on to: its octets and one pointer per cause (the cause
    strings themselves are shared with the decision table)."""
    return len(message.raw) + 8 * len(message.caused_by)


class PendingQueue:
    __slots__ = ("_items", "limit", "overflowed", "size")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._items: deque[Outgoing] = deque()
        self.size = 0
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, messages: Iterable[Outgoing]) -> bool:
        """Queue the messages; False if the queue is (now) overflowed and dropped them."""
        if self.overflowed:
            return False
        for message in messages:
            self._items.append(message)
            self.size += cost(message)
        if self.size > self.limit:
            self._items.clear()
            self.size = 0
            self.overflowed = True
            return False
        return True

    def take(self, max_octets: int | None = None) -> list[Outgoing]:
        """The oldest messages, up to `max_octets` of them but always at least one."""
        out: list[Outgoing] = []
        taken = 0
        while self._items:
            head = self._items[0]
            if out and max_octets is not None and taken + len(head.raw) > max_octets:
                break
            self._items.popleft()
            self.size -= cost(head)
            taken += len(head.raw)
            out.append(head)
        return out
