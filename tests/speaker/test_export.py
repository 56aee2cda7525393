"""The export path over real TCP on the real embedded broker: decisions in, UPDATEs out to
each client, every message recorded as a SentUpdate."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from ixrs import topics
from ixrs.config.deploy import Deploy
from ixrs.eventlog import EventProducer, SingleObjectFraming
from ixrs.prepare import prepare_log
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Decision, Epoch, EventHeader, Position, Route, SentUpdate, Session
from speaker.codec import (
    IPV4_UNICAST,
    CeaseSubcode,
    EnhancedRouteRefresh,
    ErrorCode,
    Keepalive,
    Notification,
    RefreshSubtype,
    RouteRefresh,
    Update,
    decode,
)
from tests.helpers import kill_quietly, wait_for
from tests.processors.pipeline import GENERAL, RunningWorker, start_worker
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import PARTITIONS, RunningSpeaker, start_speaker

A, B, C, D = ("127.0.0.2", 20002), ("127.0.0.3", 20003), ("127.0.0.4", 196615), (
    "127.0.0.8", 20008)
P1, P2, P3 = "185.50.0.0/24", "185.51.0.0/24", "185.52.0.0/24"


@dataclass
class Peer:
    """A test client that keeps what it was told: its Adj-RIB-In, in arrival order."""

    client: BgpTestClient
    rib: dict[str, Attributes] = field(default_factory=dict)
    messages: list[Update] = field(default_factory=list)
    end_of_rib: list[tuple[int, int]] = field(default_factory=list)
    notification: Notification | None = None
    refreshes: list[RouteRefresh] = field(default_factory=list)  # BoRR and EoRR markers

    @classmethod
    def up(cls, who: tuple[str, int], speaker: RunningSpeaker, enhanced: bool = False
           ) -> Peer:
        client = BgpTestClient(who[0], speaker.address, who[1])
        if enhanced:
            caps = (*client.open_message.capabilities, EnhancedRouteRefresh())
            client.open_message = replace(client.open_message, capabilities=caps)
        client.establish()
        return cls(client)

    def read_until(self, condition: Callable[[], object], what: str,
                   timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; rib {self.rib}")
            try:
                message = self.client.recv(left)
            except TimeoutError:
                continue
            if message is None:
                raise AssertionError(f"connection closed waiting for {what}")
            self._take(message)

    def _take(self, message: object) -> None:
        if isinstance(message, Keepalive):
            return
        if isinstance(message, Notification):
            self.notification = message
            return
        if isinstance(message, RouteRefresh):
            self.refreshes.append(message)
            return
        assert isinstance(message, Update), message
        family = message.end_of_rib()
        if family is not None:
            self.end_of_rib.append(family)
            return
        self.messages.append(message)
        for prefix in message.withdrawals():
            self.rib.pop(prefix, None)
        for attrs, prefixes in message.announced():
            for prefix in prefixes:
                self.rib[prefix] = attrs

    def announced(self) -> list[str]:
        return [p for m in self.messages for _a, ps in m.announced() for p in ps]


def _attrs(asn: int, nh: str, **extra: object) -> Attributes:
    return Attributes(origin=Origin.IGP, next_hop=nh,
                      as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (asn, 3333)),), **extra)


def _sent(speaker: RunningSpeaker) -> list[SentUpdate]:
    return [e for e in speaker.events("sent") if isinstance(e, SentUpdate)]


def _worker(broker, prefix: str, tmp: Path, clients: Path) -> RunningWorker:
    home = tmp / "worker"
    home.mkdir()
    deploy = home / "ixrs.yml"
    deploy.write_text(f"kafka:\n  partitions: {PARTITIONS}\n")
    argv = [sys.executable, "-m", "ixrs", "worker", "--bootstrap", broker.bootstrap,
            "--topic-prefix", prefix, "--general", str(GENERAL), "--clients", str(clients),
            "--deploy", str(deploy), "--state-dir", str(home / "state")]
    return start_worker(argv, home)


@pytest.fixture
def worker(broker, topic_prefix: str, tmp_path: Path, speaker: RunningSpeaker
           ) -> Iterator[RunningWorker]:
    running = _worker(broker, topic_prefix, tmp_path, tmp_path / "clients.yml")
    try:
        yield running
    finally:
        running.stop()
        kill_quietly(running.proc.pid, signal.SIGKILL)


def test_routes_flow_between_clients(speaker: RunningSpeaker, worker: RunningWorker) -> None:
    b, c = Peer.up(B, speaker), Peer.up(C, speaker)
    for peer in (b, c):  # an empty table: End-of-RIB for both families at once
        peer.read_until(lambda p=peer: len(p.end_of_rib) == 2, "End-of-RIB")
    a = Peer.up(A, speaker)
    a.read_until(lambda: len(a.end_of_rib) == 2, "End-of-RIB")

    # A announces; B and C receive it with NEXT_HOP and AS_PATH untouched.
    announced = _attrs(A[1], A[0], med=50)
    a.client.announce(Update(attributes=announced, nlri=(P1, P3)))
    for peer in (b, c):
        peer.read_until(lambda p=peer: P1 in p.rib and P3 in p.rib, f"{P1} at {peer}")
        got = peer.rib[P1]
        assert got.next_hop == A[0]
        assert got.path_asns() == (A[1], 3333)  # the route server's AS is not prepended
        assert got.med == 50 and got.local_pref is None
    # B's route reaches A; anything for P1 would have come before it (one TCP stream, and
    # P1 was decided and sent before B announced).
    b.client.announce(Update(attributes=_attrs(B[1], B[0]), nlri=(P2,)))
    a.read_until(lambda: P2 in a.rib, f"{P2} at A")
    assert a.announced() == [P2], "A's own routes were sent back to it"
    assert a.rib[P2].next_hop == B[0]

    # A client that connects late gets the full table, then End-of-RIB.
    d = Peer.up(D, speaker)
    d.read_until(lambda: IPV4_UNICAST in d.end_of_rib, "End-of-RIB at D")
    assert set(d.rib) == {P1, P2, P3}
    # ROUTE-REFRESH gets the table again.
    before = len(d.announced())
    d.client.send_message(RouteRefresh(1, 1))
    d.read_until(lambda: len(d.announced()) >= before + 3, "the table again at D")
    assert sorted(d.announced()[before:]) == [P1, P2, P3]

    # A withdrawal removes it at every other client.
    a.client.announce(Update(withdrawn=(P1,)))
    for peer in (b, c, d):
        peer.read_until(lambda p=peer: P1 not in p.rib, f"the withdrawal at {peer}")
    # A session that ends takes its routes away from every other client.
    a.client.close()
    for peer in (b, c, d):
        peer.read_until(lambda p=peer: P3 not in p.rib, f"A's routes gone at {peer}")
    assert P2 not in b.rib and P2 in c.rib and P2 in d.rib

    # Every message sent is a SentUpdate, caused by decisions of the decisions topic.
    decisions = {e.event_id: e for e in speaker.events("decisions")
                 if isinstance(e, Decision)}

    def to_b() -> list[SentUpdate]:
        return [s for s in _sent(speaker) if s.session.peer_address == B[0]]

    records = wait_for(lambda: len([s for s in to_b() if s.kind == "update"]) >= 3, 15,
                       "the SentUpdate records of B")
    records = to_b()
    assert [s.kind for s in records[:2]] == ["end-of-rib", "end-of-rib"]
    first = next(s for s in records if s.kind == "update")
    message = decode(first.raw, b.client.negotiated)
    assert isinstance(message, Update)
    assert sorted(p for _a, ps in message.announced() for p in ps) == [P1, P3]
    assert first.caused_by and {decisions[i].prefix for i in first.caused_by} == {P1, P3}
    # What B received is exactly what was recorded for it, in order.
    raws = [s.raw for s in records if s.kind == "update"]
    assert [decode(r, b.client.negotiated) for r in raws] == b.messages
    for peer in (b, c, d):
        peer.client.close()


def _decisions(bootstrap: str, prefix: str, count: int, tmp: Path) -> list[str]:
    """``count`` decisions for routes of A, written straight into the decisions topic as a
    worker writes them; returns their prefixes."""
    prepare_log(bootstrap, Deploy(topic_prefix=prefix, partitions=PARTITIONS),
                tmp / "prepare")  # creates the topics
    producer = EventProducer(bootstrap, SingleObjectFraming())
    topic = topics.DECISIONS.name(prefix)
    session = Session("speaker", A[0], A[1], Epoch("i0", 1), A[0])
    route = Route(session, _attrs(A[1], A[0]), A[0])
    header = EventHeader("test-worker", 0, 0, "")
    prefixes = [f"{100 + n // 256}.{n % 256}.0.0/16" for n in range(count)]
    for n, p in enumerate(prefixes):
        partition = topics.partition_for(p, PARTITIONS)
        position = Position(topics.ROUTES.name(prefix), partition, n)
        producer.produce(topic, Decision(header, f"{position.event_id()}/{p}", position, p,
                                         route, "only", 1), key=p, partition=partition)
    producer.flush()
    return prefixes


def test_decisions_read_at_start_then_end_of_rib(broker, topic_prefix: str,
                                                 tmp_path: Path) -> None:
    prefixes = _decisions(broker.bootstrap, topic_prefix, 3000, tmp_path)
    speaker = start_speaker(broker, topic_prefix, tmp_path)
    try:
        b = Peer.up(B, speaker)
        b.read_until(lambda: IPV4_UNICAST in b.end_of_rib, "End-of-RIB")
        assert set(b.rib) == set(prefixes)  # all of it before End-of-RIB
        assert len(b.messages) < 10  # packed: one attribute set, 3000 prefixes

        # With enhanced route refresh (RFC 7313), the table again between BoRR and EoRR.
        c = Peer.up(C, speaker, enhanced=True)
        c.read_until(lambda: IPV4_UNICAST in c.end_of_rib, "End-of-RIB at C")
        assert c.client.negotiated.enhanced_route_refresh
        first = len(c.messages)
        c.client.send_message(RouteRefresh(1, 1))
        c.read_until(lambda: len(c.refreshes) == 2, "BoRR and EoRR")
        assert [r.subtype for r in c.refreshes] == [RefreshSubtype.BEGIN, RefreshSubtype.END]
        assert sorted(c.announced()[len(c.announced()) - len(prefixes):]) == sorted(prefixes)
        assert len(c.messages) > first

        def kinds() -> list[str]:
            return [s.kind for s in _sent(speaker) if s.session.peer_address == C[0]]

        wait_for(lambda: "eorr" in kinds(), 15, "the SentUpdate of the EoRR")
        sent = kinds()
        assert sent[sent.index("borr") - 1] == "end-of-rib" and sent[-1] == "eorr"
        assert set(sent[sent.index("borr") + 1:-1]) == {"update"}
        b.client.close()
        c.client.close()
    finally:
        speaker.stop()
        kill_quietly(speaker.proc.pid, signal.SIGKILL)


def test_send_queue_overflow_closes_with_out_of_resources(
        broker, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _decisions(broker.bootstrap, topic_prefix, 3000, tmp_path)
    monkeypatch.setenv("IXRS_SEND_QUEUE_LIMIT", "4000")  # below the full table's size
    speaker = start_speaker(broker, topic_prefix, tmp_path)
    try:
        b = Peer.up(B, speaker)
        b.read_until(lambda: b.notification is not None, "the NOTIFICATION")
        assert b.notification is not None
        assert (b.notification.code, b.notification.subcode) == (
            ErrorCode.CEASE, CeaseSubcode.OUT_OF_RESOURCES)
        assert b.rib == {}
        b.client.close()
    finally:
        speaker.stop()
        kill_quietly(speaker.proc.pid, signal.SIGKILL)
