"""A log shaped as the speaker writes it, in memory: sessions established, UPDATEs read
(raw bytes in raw-updates, their routes in the routes partitions, by the speaker's own
`received_events`), UPDATEs sent to a client, a session going down. What each client sent
and was sent is kept, to compare MRT exports with."""

from __future__ import annotations

from dataclasses import dataclass, field

from ixrs import topics
from ixrs.config import load_config
from ixrs.eventlog import Stamper
from schemas.attributes import Aggregator, AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import (
    Epoch,
    RawUpdates,
    SentUpdate,
    Session,
    SessionChange,
    SessionState,
)
from speaker.codec import Update, encode
from speaker.codec.decode import decode
from speaker.codec.messages import MpReach, MpUnreach, RefreshSubtype, RouteRefresh
from speaker.codec.negotiated import Negotiated
from speaker.publish import received_events
from tests.processors.pipeline import CLIENTS, GENERAL
from tests.replay.memlog import MemorySource

T0 = 1_790_000_000_000_000  # µs
PARTITIONS = 4
RS_AS, ROUTER_ID = 59900, "192.0.2.1"  # examples/general.yml


def seq(*asns: int) -> AsPathSegment:
    return AsPathSegment(SegmentType.AS_SEQUENCE, asns)


def aset(*asns: int) -> AsPathSegment:
    return AsPathSegment(SegmentType.AS_SET, asns)


A = Session("spk", "192.0.2.4", 196615, Epoch("i1", 1), "192.0.2.4")
B = Session("spk", "2001:db8:1::5", 20005, Epoch("i1", 2), "10.0.0.5")  # an IPv6 session
C = Session("spk", "192.0.2.6", 20006, Epoch("i1", 3), "192.0.2.6")  # 2-octet ASNs
D = Session("spk", "192.0.2.8", 20008, Epoch("i1", 4), "192.0.2.8")  # goes down
R = Session("spk", "192.0.2.7", 20007, Epoch("i1", 5), "192.0.2.7")  # is sent routes
FOUR_OCTET = {A: True, B: True, C: False, D: True, R: True}

A_V4 = Attributes(origin=Origin.IGP, next_hop="192.0.2.4", med=10,
                  as_path=(seq(196615, 212232), aset(64512, 4200000000)),
                  communities=((65000, 1), (0, 6695)), large_communities=((196615, 1, 2),))
A_V6 = Attributes(origin=Origin.INCOMPLETE, as_path=(seq(196615, 212232),),
                  communities=((65000, 6),))
B_V6 = Attributes(origin=Origin.EGP, as_path=(seq(20005, 3333),), atomic_aggregate=True,
                  aggregator=Aggregator(20005, "10.0.0.5"),
                  ext_communities=(bytes.fromhex("0002fde800000001"),))
C_V4 = Attributes(origin=Origin.IGP, next_hop="192.0.2.6", as_path=(seq(20006, 196700, 3333),),
                  communities=((20006, 100),))
D_V4 = Attributes(origin=Origin.IGP, next_hop="192.0.2.8", as_path=(seq(20008),))


@dataclass
class Scenario:
    source: MemorySource
    stamper: Stamper
    received: dict[Session, list[bytes]] = field(default_factory=dict)  # UPDATEs, in order
    sent: dict[Session, list[bytes]] = field(default_factory=dict)
    # every message in log order: (session, the UPDATE as meant, sent to the session or
    # not, its stamp)
    messages: list[tuple[Session, Update, bool, int]] = field(default_factory=list)
    changes: list[SessionChange] = field(default_factory=list)
    seqs: dict[Session, int] = field(default_factory=dict)
    announced_at: dict[tuple[Session, str], int] = field(default_factory=dict)
    now: int = T0

    def clock(self) -> int:
        """A second and a bit per event: originated times (seconds) tell events apart."""
        self.now += 1_000_250
        return self.now

    def change(self, session: Session, old: SessionState, new: SessionState) -> None:
        event = SessionChange(self.stamper.header(), session, new, old, "test", None, "",
                              ("ipv4-unicast", "ipv6-unicast"), FOUR_OCTET[session])
        self.source.add(topics.SESSIONS, 0, event)
        self.changes.append(event)
        if old == SessionState.ESTABLISHED:
            for partition in range(PARTITIONS):
                self.source.add(topics.ROUTES, partition, event)

    def read(self, session: Session, *updates: Update) -> None:
        """One socket read of UPDATEs, logged as the speaker logs it."""
        negotiated = Negotiated(four_octet_as=FOUR_OCTET[session])
        raws = [encode(update, negotiated) for update in updates]
        decoded = [decode(raw, negotiated) for raw in raws]  # as the speaker reads them
        first = self.seqs.get(session, 0) + 1
        self.seqs[session] = first + len(updates) - 1
        header = self.stamper.header()
        self.source.add(topics.RAW_UPDATES, topics.partition_for(session.peer_address,
                                                                 PARTITIONS),
                        RawUpdates(header, session, first, tuple(raws)))
        numbered = list(enumerate(decoded, first))
        for partition, event in received_events(session, numbered, self.stamper.header,
                                                PARTITIONS):
            self.source.add(topics.ROUTES, partition, event)
            for part in event.parts:
                for prefix in part.announced:
                    self.announced_at[(session, prefix)] = event.header.event_time_us
        self.received.setdefault(session, []).extend(raws)
        self.messages.extend((session, u, False, header.event_time_us) for u in updates)

    def send(self, session: Session, message: Update | RouteRefresh, kind: str = "update"
             ) -> None:
        raw = encode(message, Negotiated(four_octet_as=FOUR_OCTET[session]))
        header = self.stamper.header()
        self.source.add(topics.SENT, topics.partition_for(session.peer_address, PARTITIONS),
                        SentUpdate(header, session, raw, ("d:0:1",), kind))
        self.sent.setdefault(session, []).append(raw)
        if isinstance(message, Update):
            self.messages.append((session, message, True, header.event_time_us))

    def originated(self, session: Session, prefix: str) -> int:
        """The stamp of the routes event that last announced the prefix on the session (the
        speaker stamps each event of a read as it writes it)."""
        return self.announced_at[(session, prefix)]


def build() -> Scenario:
    config = load_config(str(GENERAL), str(CLIENTS))
    scenario = Scenario(MemorySource(PARTITIONS, config), Stamper("speaker-1", config.version))
    scenario.stamper = Stamper("speaker-1", config.version, scenario.clock)
    s = scenario
    for session in (A, B, C, D, R):
        s.change(session, SessionState.OPENSENT, SessionState.OPENCONFIRM)
        s.change(session, SessionState.OPENCONFIRM, SessionState.ESTABLISHED)
    s.read(A, Update(attributes=A_V4, nlri=("185.50.0.0/24", "203.0.113.7/32")),
           Update(attributes=A_V6, mp_reach=MpReach(2, 1, "2001:db8:1::4", "fe80::4",
                                                    ("2a0c:9a40::/32",))))
    s.read(B, Update(attributes=B_V6, mp_reach=MpReach(2, 1, "2001:db8:1::5", None,
                                                       ("2a0c:9a40::/32", "2a0c:9a41::/48"))))
    s.read(C, Update(attributes=C_V4, nlri=("185.50.0.0/24", "185.51.0.0/24")))
    s.read(D, Update(attributes=D_V4, nlri=("198.51.100.0/24",)))
    to_r = Update(attributes=Attributes(origin=Origin.IGP, next_hop="192.0.2.4",
                                        as_path=A_V4.as_path, communities=A_V4.communities,
                                        large_communities=A_V4.large_communities),
                  nlri=("185.50.0.0/24", "203.0.113.7/32"))
    s.send(R, to_r)
    s.send(R, Update(), "eor")  # End-of-RIB
    s.send(R, RouteRefresh(1, 1, RefreshSubtype.BEGIN), "borr")  # an enhanced route refresh:
    s.send(R, to_r)  # the table again,
    s.send(R, RouteRefresh(1, 1, RefreshSubtype.END), "eorr")  # and what was not sent is gone
    s.read(C, Update(withdrawn=("185.51.0.0/24",)))
    s.read(B, Update(mp_unreach=MpUnreach(2, 1, ("2a0c:9a41::/48",))))
    s.change(D, SessionState.ESTABLISHED, SessionState.IDLE)
    return scenario


# What the Adj-RIB-In holds at the end: (peer, prefix) -> attributes with their next hop.
RIB_IN = {
    (A, "185.50.0.0/24"): A_V4,
    (A, "203.0.113.7/32"): A_V4,
    (A, "2a0c:9a40::/32"): Attributes(origin=A_V6.origin, as_path=A_V6.as_path,
                                      communities=A_V6.communities, next_hop="2001:db8:1::4",
                                      next_hop_link_local="fe80::4"),
    (B, "2a0c:9a40::/32"): Attributes(origin=B_V6.origin, as_path=B_V6.as_path,
                                      atomic_aggregate=True,
                                      aggregator=B_V6.aggregator,
                                      ext_communities=B_V6.ext_communities,
                                      next_hop="2001:db8:1::5"),
    (C, "185.50.0.0/24"): C_V4,
}
