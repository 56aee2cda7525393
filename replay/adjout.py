"""Every client's Adj-RIB-Out, rebuilt from what the speaker recorded as sent. Pure.

The `sent` topic holds every message written to a client, byte for byte (`SentUpdate.raw`,
with the ids of the decisions that caused it). Folding a client's messages in log order,
with the codec that wrote them, gives what the client was told: this is the route server's
side of the client's Adj-RIB-In, and what replay compares with the client's own RIB.

- A session starts empty: the first message of a newer session (epoch) of a client
  replaces what an older one had; late messages of an older one change nothing.
- A session that went down (its `SessionChange` in the sessions topic, within the moment)
  holds nothing, and neither does a session of a speaker incarnation that was replaced.
- Enhanced route refresh (RFC 7313): between BoRR and EoRR, routes not sent again are
  stale, and EoRR removes them.

The codec reads each message with the session's 4-octet-AS capability, from the
`SessionChange` that recorded it established.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.attributes import Attributes
from schemas.events import (
    Position,
    SentUpdate,
    Session,
    SessionChange,
    SessionState,
)
from speaker.codec.decode import decode
from speaker.codec.messages import Update
from speaker.codec.negotiated import Negotiated

SessionId = tuple[str, str, str, int]  # speaker id, peer address, incarnation, counter


def session_id(session: Session) -> SessionId:
    return (session.speaker_id, session.peer_address, session.epoch.incarnation,
            session.epoch.counter)


@dataclass(frozen=True, slots=True)
class SentRoute:
    attributes: Attributes
    position: Position  # the SentUpdate that announced it last
    time_us: int
    caused_by: tuple[str, ...]


@dataclass
class ClientRibOut:
    session: Session
    routes: dict[str, SentRoute] = field(default_factory=dict)
    stale: set[str] | None = None  # during an enhanced route refresh


@dataclass
class SessionBook:
    """What the sessions topic says about each session: how it was negotiated, whether it
    went down, and each speaker's latest incarnation (all within the moment)."""

    four_octet_as: dict[SessionId, bool] = field(default_factory=dict)
    down: set[SessionId] = field(default_factory=set)
    incarnations: dict[str, str] = field(default_factory=dict)
    local_addresses: dict[SessionId, str] = field(default_factory=dict)  # our end (MRT)

    def apply(self, event: object) -> None:
        if not isinstance(event, SessionChange):
            return
        key = session_id(event.session)
        self.incarnations[event.session.speaker_id] = event.session.epoch.incarnation
        if event.local_address:
            self.local_addresses[key] = event.local_address
        if event.state == SessionState.ESTABLISHED:
            self.four_octet_as[key] = event.four_octet_as
        elif event.previous_state == SessionState.ESTABLISHED:
            self.down.add(key)

    def negotiated(self, session: Session) -> Negotiated:
        # Extended messages allowed: these are messages already sent, read back, not checked.
        return Negotiated(four_octet_as=self.four_octet_as.get(session_id(session), True),
                          extended_message=True)


class AdjRibOut:
    """The Adj-RIB-Out of every client, from SentUpdate events in log order."""

    def __init__(self, sessions: SessionBook) -> None:
        self.sessions = sessions
        self.clients: dict[str, ClientRibOut] = {}

    def apply(self, position: Position, event: SentUpdate) -> Update | None:
        """Apply one sent message; the UPDATE it carried, if it was one."""
        address = event.session.peer_address
        rib = self.clients.get(address)
        if rib is None or _newer(event.session, rib.session):
            rib = self.clients[address] = ClientRibOut(event.session)
        elif session_id(rib.session) != session_id(event.session):
            return None  # a late message of a session already replaced
        if event.kind == "borr":
            rib.stale = set(rib.routes)
            return None
        if event.kind == "eorr":
            for prefix in rib.stale or ():
                rib.routes.pop(prefix, None)
            rib.stale = None
            return None
        if event.kind != "update":
            return None  # End-of-RIB: nothing to apply
        message = decode(event.raw, self.sessions.negotiated(event.session))
        if not isinstance(message, Update):
            return None
        for prefix in message.withdrawals():
            rib.routes.pop(prefix, None)
            if rib.stale is not None:
                rib.stale.discard(prefix)
        when = event.header.event_time_us
        for attributes, prefixes in message.announced():
            sent = SentRoute(attributes, position, when, event.caused_by)
            for prefix in prefixes:
                rib.routes[prefix] = sent
                if rib.stale is not None:
                    rib.stale.discard(prefix)
        return message

    def live(self) -> Iterable[ClientRibOut]:
        """The clients whose session was up at the moment."""
        for rib in self.clients.values():
            key = session_id(rib.session)
            current = self.sessions.incarnations.get(rib.session.speaker_id)
            if key in self.sessions.down:
                continue
            if current is not None and current != rib.session.epoch.incarnation:
                continue  # the speaker started again: that session is gone with it
            yield rib


def _newer(new: Session, old: Session) -> bool:
    if new.speaker_id != old.speaker_id or new.epoch.incarnation != old.epoch.incarnation:
        return True  # another speaker or a speaker's new life: the newer message wins
    return new.epoch.counter > old.epoch.counter
