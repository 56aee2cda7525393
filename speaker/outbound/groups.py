"""The Adj-RIB-Out: update groups and their members' exceptions. Pure data.

What client C was last sent for prefix P (`Client.sent`) is

    C.exceptions[P]         if P is among C's exceptions (None: nothing),
    C.group.sent.get(P)     otherwise.

A group holds what every member is sent when no delta applies to it, once for all its
members; a member holds only the prefixes where a delta made it differ. Memory is prefixes
x groups plus the exceptions, not prefixes x clients.

A client has an exception for P only while the decision in force for P has a delta for it,
or a peer-scoped request on its best route styles it (`exporter.styled`; after a reload a
decision may lack a delta for such a client); a client neither names is sent the group's
value. So when P changes, the members that need a look of their own are named by the old
decision and the new one, and no index of exceptions by prefix is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from processors.export import Peer, Profile
from schemas.attributes import Attributes
from speaker.codec import Negotiated
from speaker.outbound.pending import PendingQueue


@dataclass(frozen=True, slots=True)
class GroupKey:
    """Clients with equal keys are sent the same bytes unless a delta singles one out."""

    profile: Profile  # what the client's own settings change in its export
    versions: frozenset[int]  # IP versions the session carries (configured and negotiated)
    wire: Negotiated  # what changes UPDATE bytes (`wire.wire_params`)


class UpdateGroup:
    __slots__ = ("full", "key", "members", "sent")

    def __init__(self, key: GroupKey) -> None:
        self.key = key
        self.members: dict[str, Client] = {}
        # prefix -> what the members without an exception for it were last sent
        self.sent: dict[str, Attributes] = {}
        # the group's full table, packed, while no decision changed (see engine)
        self.full: object | None = None

    def __repr__(self) -> str:
        return f"UpdateGroup({self.key!r}, members={sorted(self.members)})"


class Client:
    """One established session: its group, its exceptions, its queue of messages."""

    __slots__ = ("exceptions", "group", "negotiated", "peer", "queue")

    def __init__(
        self, peer: Peer, negotiated: Negotiated, group: UpdateGroup, queue: PendingQueue
    ) -> None:
        self.peer = peer
        self.negotiated = negotiated
        self.group = group
        # prefix -> what this client was sent where it differs from its group (None: nothing)
        self.exceptions: dict[str, Attributes | None] = {}
        self.queue = queue

    @property
    def ip(self) -> str:
        return self.peer.ip

    def sent(self, prefix: str) -> Attributes | None:
        """What the client was last sent for the prefix (None: nothing)."""
        if prefix in self.exceptions:
            return self.exceptions[prefix]
        return self.group.sent.get(prefix)

    def table(self) -> dict[str, Attributes]:
        """Every prefix the client was sent, with its attributes (tests, debugging)."""
        out = {p: a for p, a in self.group.sent.items() if p not in self.exceptions}
        out.update((p, a) for p, a in self.exceptions.items() if a is not None)
        return out

    def leave(self) -> None:
        """Take the client out of its group."""
        self.exceptions.clear()
        self.group.members.pop(self.ip, None)
