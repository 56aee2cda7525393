"""The route server's side of each session, for MRT records: its ASN, its address, its
BGP identifier, and how each session was negotiated, as the log recorded them.

MRT names both ends of a session (BGP4MP) and the collector (TABLE_DUMP_V2). ixrs's log
has the peer's end in every event (`Session`), and the route server's in two places:

- the configuration version an event was stamped under (`header.config_version`): the
  route server's ASN (`rs_as`) and BGP identifier (`router_id`);
- the `SessionChange` events: the local address (`local_address`, when the speaker recorded
  one) and whether 4-octet ASNs were negotiated.

A speaker that left `local_address` empty gives no local address; the route server's BGP
identifier stands in for an IPv4 session (at an IXP it is, by convention, the route
server's peering-LAN address), the unspecified address `::` for an IPv6 session, since an
MRT record needs an address of the peer's family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ixrs import topics
from ixrs.config import RouteServerConfig
from replay.adjout import SessionBook, session_id
from replay.history import History
from replay.source import LogSource, events
from schemas.events import Session, SessionChange


@dataclass
class SessionLog:
    """Every SessionChange of the sessions topic, in log order, with what they say."""

    changes: list[SessionChange] = field(default_factory=list)
    book: SessionBook = field(default_factory=SessionBook)

    def apply(self, event: object) -> None:
        if not isinstance(event, SessionChange):
            return  # PeerNotice: a refused connection, no session
        self.changes.append(event)
        self.book.apply(event)


def read_sessions(source: LogSource) -> SessionLog:
    log = SessionLog()
    for _offset, event in events(source, topics.SESSIONS, 0):
        log.apply(event)
    return log


class LocalSide:
    """The route server's end of the sessions, per configuration version."""

    def __init__(self, history: History, sessions: SessionLog, fallback_version: str) -> None:
        self.history, self.sessions = history, sessions
        self.fallback = fallback_version
        self._configs: dict[str, RouteServerConfig] = {}

    def config(self, version: str = "") -> RouteServerConfig:
        """The configuration of a version; the fallback one for an event stamped with none
        (or with one the config topic does not hold)."""
        found = self._configs.get(version)
        if found is None:
            try:
                found = self.history.config(version or self.fallback)
            except LookupError:
                found = self.history.config(self.fallback)
            self._configs[version] = found
        return found

    def asn(self, version: str = "") -> int:
        return self.config(version).general.rs_as

    def router_id(self, version: str = "") -> str:
        ids = self.config(version).general.router_id
        return ids[0] if ids else "0.0.0.0"

    def address(self, session: Session, version: str = "") -> str:
        """The route server's address on this session, of the peer's address family."""
        recorded = self.sessions.book.local_addresses.get(session_id(session), "")
        ipv6 = ":" in session.peer_address
        if recorded and (":" in recorded) == ipv6:
            return recorded
        if ipv6:
            return "::"
        router_id = self.router_id(version)
        return router_id if ":" not in router_id else "0.0.0.0"

    def four_octet_as(self, session: Session) -> bool:
        return self.sessions.book.negotiated(session).four_octet_as
