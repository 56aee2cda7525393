"""The Adj-RIB-In of one routes partition, rebuilt from its events. Pure.

Applies the events of a routes partition in log order: announcements and
withdrawals, session-down markers, and speaker-incarnation markers. Routes of a
session that went down, of an older epoch, or of a speaker's earlier incarnation
are gone; late events from them are ignored. Processors and replay use the same
code, so they agree on what every client had announced at any offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from processors.received import RoutesChange, routes_change
from schemas.attributes import Attributes
from schemas.decoder import constructor
from schemas.events import (
    ReceivedRoutes,
    ReceivedUpdates,
    Session,
    SessionChange,
    SessionState,
    SpeakerIncarnation,
)

PeerKey = tuple[str, str]  # (speaker id, peer address): one session at a time


@dataclass(frozen=True, slots=True)
class RibRoute:
    session: Session
    attributes: Attributes
    update_seq: int


_new_route = constructor(RibRoute)


def peer_key(session: Session) -> PeerKey:
    return (session.speaker_id, session.peer_address)


@dataclass
class AdjRibIn:
    routes: dict[str, dict[PeerKey, RibRoute]] = field(default_factory=dict)
    by_peer: dict[PeerKey, set[str]] = field(default_factory=dict)
    epochs: dict[PeerKey, Session] = field(default_factory=dict)  # the live session per peer
    incarnations: dict[str, str] = field(default_factory=dict)  # speaker id -> incarnation

    def apply(self, event: object) -> set[str]:
        """Apply one event; the prefixes whose candidates changed."""
        if isinstance(event, (ReceivedRoutes, ReceivedUpdates)):
            return self.apply_routes(routes_change(event))
        if isinstance(event, SessionChange):
            return self._session_change(event)
        if isinstance(event, SpeakerIncarnation):
            return self._incarnation(event)
        return set()

    def stale(self, session: Session) -> bool:
        """Whether events of this session are ignored: its epoch or incarnation is gone."""
        current = self.incarnations.get(session.speaker_id)
        if current is not None and session.epoch.incarnation != current:
            return True
        live = self.epochs.get(peer_key(session))
        return (
            live is not None
            and live.epoch.incarnation == session.epoch.incarnation
            and live.epoch.counter > session.epoch.counter
        )

    def apply_routes(self, change: RoutesChange) -> set[str]:
        """Apply a received-routes event's net change (processors.received)."""
        if self.stale(change.session):
            return set()
        return self.apply_fresh(change)[0]

    def apply_fresh(self, change: RoutesChange) -> tuple[set[str], set[str]]:
        """apply_routes() for a change whose session is known not to be stale: the prefixes
        whose candidates changed, and those of them that lost this peer's route (withdrawn,
        or of the session a newer epoch replaced; some may be announced again here)."""
        session = change.session
        key = peer_key(session)
        changed: set[str] = set()
        lost: set[str] = set()
        live = self.epochs.get(key)
        if live is not None and live.epoch != session.epoch:
            # a newer epoch replaces the old session's routes (a set no longer the peer's)
            lost = self._drop_peer(key)
            changed |= lost
        elif live == session:
            session = live  # one object per session, as for attribute sets
        self.epochs[key] = session
        mine = self.by_peer.setdefault(key, set())
        if change.withdrawn:
            for prefix in change.withdrawn:
                candidates = self.routes.get(prefix)
                if candidates and candidates.pop(key, None) is not None:
                    mine.discard(prefix)
                    changed.add(prefix)
                    lost.add(prefix)
                    if not candidates:
                        del self.routes[prefix]
        routes = self.routes
        for update_seq, attributes, prefixes in change.announced:
            # interned by routes_change; built by slot setters, in half the time of the
            # frozen dataclass's __init__ (once per announced attribute set)
            route = _new_route(session, attributes, update_seq)
            # Once per announced prefix: a prefix's dict is made only when it has none
            # (setdefault(prefix, {}) builds one every time), and the sets take the
            # prefixes in one call.
            for prefix in prefixes:
                candidates = routes.get(prefix)
                if candidates is None:
                    routes[prefix] = {key: route}
                else:
                    candidates[key] = route
            mine.update(prefixes)
            changed.update(prefixes)
        return changed, lost

    def _session_change(self, event: SessionChange) -> set[str]:
        if event.previous_state != SessionState.ESTABLISHED:
            return set()
        key = peer_key(event.session)
        live = self.epochs.get(key)
        if live is None or live.epoch != event.session.epoch:
            return set()  # a marker for a session whose routes are already gone
        del self.epochs[key]
        return self._drop_peer(key)

    def _incarnation(self, event: SpeakerIncarnation) -> set[str]:
        if self.incarnations.get(event.speaker_id) == event.incarnation:
            return set()
        self.incarnations[event.speaker_id] = event.incarnation
        changed: set[str] = set()
        for key in [k for k in self.epochs if k[0] == event.speaker_id]:
            if self.epochs[key].epoch.incarnation != event.incarnation:
                del self.epochs[key]
                changed |= self._drop_peer(key)
        return changed

    def _drop_peer(self, key: PeerKey) -> set[str]:
        prefixes = self.by_peer.pop(key, set())
        for prefix in prefixes:
            candidates = self.routes.get(prefix)
            if candidates is not None:
                candidates.pop(key, None)
                if not candidates:
                    del self.routes[prefix]
        return prefixes

    def of_peer(self, speaker_id: str, address: str) -> dict[str, RibRoute]:
        key = (speaker_id, address)
        return {p: self.routes[p][key] for p in self.by_peer.get(key, ())}
