"""The speaker role: sessions in, events out.

It owns the speaker's identity and incarnation, the epochs of its sessions, and
what each session event becomes in the log. Sockets live in
:mod:`speaker.transport`; BGP itself in :mod:`speaker.fsm` and :mod:`speaker.codec`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from ixrs import topics
from ixrs.config import Client, RouteServerConfig
from ixrs.eventlog import Stamper
from ixrs.topics import partition_for
from processors.export import ExportPolicy
from schemas.events import (
    Epoch,
    NotificationInfo,
    PeerNotice,
    RawUpdates,
    SentUpdate,
    Session,
    SessionChange,
    SessionState,
    SpeakerIncarnation,
)
from speaker import maxprefix
from speaker.admission import RateLimiter
from speaker.codec import CeaseSubcode, Notification, Update
from speaker.maxprefix import Limits, PrefixCounter
from speaker.outbound import Kind, Outbound, Outgoing, Report
from speaker.publish import received_events
from speaker.publisher import Publisher, Window

log = logging.getLogger("ixrs.speaker")


@dataclass
class SessionRecord:
    """What the speaker keeps per live connection."""

    session: Session
    client: Client
    window: Window = field(default_factory=Window)
    state: SessionState = SessionState.ACTIVE
    update_seq: int = 0
    counter: PrefixCounter | None = None
    families: tuple[str, ...] = ()
    four_octet_as: bool = True
    local_address: str = ""  # our end of the TCP connection (MRT needs it)
    # UPDATEs of the current socket read, published together (Speaker.publish_received)
    pending: list[tuple[int, Update, bytes]] = field(default_factory=list)


def limits_for(client: Client) -> Limits:
    mp = client.settings.filtering.max_prefix
    action = maxprefix.Action(mp.action) if mp.action else None
    return Limits(mp.limit_ipv4, mp.limit_ipv6, action, mp.restart_after * 60.0)


class Speaker:
    def __init__(self, config: RouteServerConfig, publisher: Publisher, topic_prefix: str,
                 partitions: int, speaker_id: str = "speaker",
                 outbound: Outbound | None = None) -> None:
        self.config = config
        self.publisher = publisher
        self.prefix = topic_prefix
        self.partitions = partitions
        self.speaker_id = speaker_id
        self.incarnation = str(uuid.uuid4())
        self.stamper = Stamper(speaker_id, config.version)
        self._epochs = 0
        self.notices = RateLimiter()
        self.sessions: dict[str, SessionRecord] = {}  # by peer address, established only
        self.connections: set[Any] = set()  # the transport's live connections
        self.refused_until: dict[str, float] = {}  # max-prefix: address -> time (inf: shutdown)
        self.stats = {"sessions_up": 0, "updates": 0, "prefixes": 0, "sent": 0,
                      "updates_sent": 0}
        # The export path: the outbound core (pure) and, per client address, the connection
        # that is Established for it, which writes what the core queued.
        self.outbound = outbound
        self.links: dict[str, Any] = {}

    def start(self) -> None:
        """Mark the new incarnation in every routes partition, before any route of it,
        so that processors drop what the previous incarnation announced."""
        marker = SpeakerIncarnation(self.stamper.header(), self.speaker_id, self.incarnation)
        for partition in range(self.partitions):
            self.publisher.produce(self._topic(topics.ROUTES), marker, self.speaker_id, partition)
        self.publisher.flush()

    def apply_config(self, config: RouteServerConfig) -> None:
        """A reloaded configuration: new clients are admitted from now on; sessions of
        clients that are gone, or whose ASN changed, are closed (RFC 4486 Cease)."""
        self.config = config
        self.stamper.config_version = config.version
        for connection in list(self.connections):
            rec = connection.rec
            if rec is None:
                continue
            client = config.client_by_ip(rec.session.peer_address)
            if client is None:
                connection.deconfigure(CeaseSubcode.PEER_DECONFIGURED, "peer de-configured")
            elif client.asn != rec.client.asn:
                connection.deconfigure(CeaseSubcode.OTHER_CONFIGURATION_CHANGE,
                                       "the peer's AS changed in clients.yml")
            else:
                rec.client = client
                if rec.counter is not None:
                    rec.counter.limits = limits_for(client)
        if self.outbound is not None:
            # The export policy too: each client is queued what the new one changes for it.
            self.dispatch(self.outbound.reconfigure(ExportPolicy.from_config(config)))

    def _topic(self, spec: topics.TopicSpec) -> str:
        return spec.name(self.prefix)

    def new_session(self, client: Client, address: str) -> SessionRecord:
        self._epochs += 1
        epoch = Epoch(self.incarnation, self._epochs)
        session = Session(self.speaker_id, address, client.asn, epoch)
        counter = PrefixCounter(limits_for(client))
        return SessionRecord(session, client, counter=counter)

    # --- session changes --------------------------------------------------------------

    def state_changed(self, rec: SessionRecord, state: SessionState, previous: SessionState,
                      reason: str, notification: Notification | None, sent: bool) -> None:
        self.publish_received(rec)  # the routes of this read come before any marker
        rec.state = state
        info = None
        if notification is not None:
            info = NotificationInfo(sent, notification.code, notification.subcode,
                                    notification.data)
        change = SessionChange(self.stamper.header(), rec.session, state, previous, reason,
                               info, rec.local_address, rec.families, rec.four_octet_as)
        address = rec.session.peer_address
        self.publisher.produce(self._topic(topics.SESSIONS), change, address, 0)
        log.info("session %s AS%d: %s -> %s (%s)", address, rec.session.peer_asn,
                 previous.name, state.name, reason)
        # stdout, with the other lifecycle lines: one line per change, for operators.
        print(session_line(address, rec.session.peer_asn, state, reason), flush=True)
        if state == SessionState.ESTABLISHED:
            self.sessions[address] = rec
            self.stats["sessions_up"] += 1
        elif previous == SessionState.ESTABLISHED:
            self.sessions.pop(address, None)
            self.stats["sessions_up"] -= 1
            # The marker follows this session's routes in every partition (same
            # producer, idempotent, so per-partition order holds).
            for partition in range(self.partitions):
                self.publisher.produce(self._topic(topics.ROUTES), change, address, partition)

    # --- updates ----------------------------------------------------------------------

    def update_received(self, rec: SessionRecord, update: Update, raw: bytes
                        ) -> maxprefix.Outcome:
        """Take one UPDATE; it is published with the others of its socket read by
        `publish_received`, which the transport calls at the end of the read."""
        if rec.state != SessionState.ESTABLISHED:
            # The rest of a read whose session ended part way (max-prefix shutdown): its
            # down marker is in the log already; nothing of the session may follow it.
            return maxprefix.Outcome(False)
        rec.update_seq += 1
        announced = [p for _attrs, prefixes in update.announced() for p in prefixes]
        outcome = rec.counter.apply(announced, update.withdrawals()) if rec.counter else None
        if outcome and outcome.refused:
            update = _without(update, frozenset(outcome.refused))
        rec.pending.append((rec.update_seq, update, raw))
        self.stats["updates"] += 1
        self.stats["prefixes"] += len(announced)
        return outcome or maxprefix.Outcome(False)

    def publish_received(self, rec: SessionRecord) -> bool:
        """Publish the UPDATEs taken since the last call: one RawUpdates event, and one
        ReceivedUpdates per routes partition. The caller waits on ``rec.window`` before
        reading on."""
        if not rec.pending:
            return False
        pending, rec.pending = rec.pending, []
        address = rec.session.peer_address
        raw_event = RawUpdates(self.stamper.header(), rec.session, pending[0][0],
                               tuple(raw for _seq, _update, raw in pending))
        self.publisher.produce(self._topic(topics.RAW_UPDATES), raw_event, address,
                               partition_for(address, self.partitions), rec.window,
                               weight=len(pending))
        routes = self._topic(topics.ROUTES)
        numbered = [(seq, update) for seq, update, _raw in pending]
        for partition, event in received_events(rec.session, numbered, self.stamper.header,
                                                self.partitions):
            self.publisher.produce(routes, event, address, partition, rec.window)
        return True

    # --- the export path ------------------------------------------------------------------

    def decisions(self, batch: list[Any]) -> None:
        """One poll's worth of decisions from the decisions topic (see speaker.decisions)."""
        if self.outbound is not None:
            self.dispatch(self.outbound.apply(batch))

    def decisions_caught_up(self) -> None:
        """The decisions topic was read to its end: sessions that waited get their tables."""
        if self.outbound is not None:
            self.dispatch(self.outbound.mark_ready())

    def dispatch(self, report: Report) -> None:
        """Hand what the core queued to the clients' connections; close the overflowed."""
        for address in report.overflowed:
            link = self.links.get(address)
            log.warning("session %s: send queue over its bound; closing", address)
            if link is not None:
                link.overflow()
        for address in report.output:
            link = self.links.get(address)
            if link is not None:
                link.flush_outbound()

    def record_sent(self, rec: SessionRecord, messages: list[Outgoing]) -> None:
        """Every message written to a client becomes a SentUpdate, in the client's
        partition of the sent topic (the audit trail of what each client was told)."""
        address = rec.session.peer_address
        topic = self._topic(topics.SENT)
        partition = partition_for(address, self.partitions)
        for message in messages:
            event = SentUpdate(self.stamper.header(), rec.session, message.raw,
                               message.caused_by, str(message.kind))
            self.publisher.produce(topic, event, address, partition)
        self.stats["sent"] += len(messages)
        self.stats["updates_sent"] += sum(1 for m in messages if m.kind == Kind.UPDATE)

    def status(self) -> dict[str, int]:
        """The counters of the speaker's `status:` line (ixrs.status)."""
        return {"sessions_up": self.stats["sessions_up"], "received": self.stats["prefixes"],
                "exported": self.stats["updates_sent"]}

    # --- notices ----------------------------------------------------------------------

    def notice(self, now: float, address: str, asn: int | None, kind: str, action: str,
               detail: str, session: Session | None = None) -> None:
        allowed, held = self.notices.allow(f"{kind}/{address}", now)
        if not allowed:
            return
        log.warning("%s %s: %s (%s)%s", kind, address, detail, action,
                    f", {held} similar notices suppressed" if held else "")
        event = PeerNotice(self.stamper.header(), self.speaker_id, address, asn, kind, action,
                           detail, session, held)
        self.publisher.produce(self._topic(topics.SESSIONS), event, address, 0)


STATE_NAMES = {
    SessionState.IDLE: "Idle", SessionState.CONNECT: "Connect", SessionState.ACTIVE: "Active",
    SessionState.OPENSENT: "OpenSent", SessionState.OPENCONFIRM: "OpenConfirm",
    SessionState.ESTABLISHED: "Established",
}


def session_line(address: str, asn: int, state: SessionState, reason: str = "") -> str:
    """``session 192.0.2.2 AS20002: Established``; a session going down adds its reason:
    ``session 192.0.2.2 AS20002: Idle (hold timer expired)``."""
    line = f"session {address} AS{asn}: {STATE_NAMES.get(state, state.name)}"
    if reason and state == SessionState.IDLE:
        line += f" ({reason})"
    return line


def _without(update: Update, refused: frozenset[str]) -> Update:
    """The UPDATE minus announcements that max-prefix "block" refuses."""
    from dataclasses import replace

    mp = update.mp_reach
    if mp is not None:
        mp = replace(mp, nlri=tuple(p for p in mp.nlri if p not in refused))
    return replace(update, nlri=tuple(p for p in update.nlri if p not in refused), mp_reach=mp)
