"""One routes partition, events in and outputs out, without Kafka."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixrs.config import load_config
from ixrs.eventlog import Stamper
from processors.export import ExportPolicy
from processors.partition import PartitionProcessor
from processors.validate import ImportPolicy
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.decisions import per_prefix
from schemas.events import (
    Decision,
    Decisions,
    Epoch,
    EventHeader,
    Position,
    ReceivedRoutes,
    Session,
    SessionChange,
    SessionState,
    Verdict,
)

ROOT = Path(__file__).resolve().parents[2]
H = EventHeader("speaker", 0, 0, "")
PREFIX = "185.50.0.0/24"


@pytest.fixture
def proc() -> PartitionProcessor:
    config = load_config(str(ROOT / "examples" / "general.yml"),
                         str(ROOT / "examples" / "clients.yml"))

    def no_data(kind: str, name: str, version: str) -> object:
        raise AssertionError("no data set in these tests")

    return PartitionProcessor(0, ImportPolicy(config), no_data,  # type: ignore[arg-type]
                              Stamper("worker", config.version),
                              ExportPolicy.from_config(config))


def _session(address: str, asn: int) -> Session:
    return Session("speaker", address, asn, Epoch("i", 1), address)


def _announce(session: Session, *path: int) -> ReceivedRoutes:
    attrs = Attributes(origin=Origin.IGP, next_hop=session.peer_address,
                       as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),))
    return ReceivedRoutes(H, session, 1, attrs, (PREFIX,))


class Feed:
    def __init__(self, proc: PartitionProcessor) -> None:
        self.proc, self.offset = proc, 0

    def __call__(self, event: object) -> list[object]:
        self.offset += 1
        outputs = self.proc.handle(Position("ixrs.routes", 0, self.offset), event)
        return [e for o in outputs for e in per_prefix(o.event)]  # a pass's per prefix


def _decisions(events: list[object]) -> list[Decision]:
    return [e for e in events if isinstance(e, Decision)]


def test_best_path_follows_announcements_withdrawals_and_markers(proc) -> None:
    feed = Feed(proc)
    a, b = _session("192.0.2.2", 20002), _session("192.0.2.3", 20003)
    [verdict, decision] = feed(_announce(a, 20002, 3333, 3333))
    assert isinstance(verdict, Verdict) and verdict.groups[0].accepted
    assert decision.best is not None and decision.best.session.peer_address == "192.0.2.2"
    [_v, decision] = feed(_announce(b, 20003, 3333))  # shorter AS_PATH wins
    assert decision.best.session.peer_address == "192.0.2.3"
    assert decision.step == "as-path-length" and decision.candidates == 2
    assert decision.event_id == "ixrs.routes:0:2/185.50.0.0/24"
    # the same route again changes nothing: a verdict, but no new decision
    assert _decisions(feed(_announce(b, 20003, 3333))) == []
    # the session of the best route goes down: the other one takes over
    [decision] = _decisions(feed(SessionChange(H, b, SessionState.IDLE,
                                               SessionState.ESTABLISHED)))
    assert decision.best.session.peer_address == "192.0.2.2"
    # the last candidate is withdrawn: a decision with no best withdraws the prefix
    [decision] = _decisions(feed(ReceivedRoutes(H, a, 2, None, (), (PREFIX,))))
    assert decision.best is None and decision.candidates == 0
    assert proc.decisions == {} and proc.offers == {}


def test_a_rejected_route_is_no_candidate(proc) -> None:
    feed = Feed(proc)
    a = _session("192.0.2.2", 20002)
    outputs = feed(_announce(a, 20003, 3333))  # left-most AS is not the peer's
    [verdict] = outputs
    assert not verdict.groups[0].accepted
    assert proc.offers == {} and proc.decisions == {}


def test_one_pass_is_one_decisions_event_grouped_by_result(proc) -> None:
    a = _session("192.0.2.2", 20002)
    attrs = Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                       as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),))
    prefixes = ("185.50.2.0/24", "185.50.0.0/24", "185.50.1.0/24")
    outputs = proc.handle(Position("ixrs.routes", 0, 7), ReceivedRoutes(H, a, 1, attrs, prefixes))
    [verdict, decisions] = [o.event for o in outputs]
    assert isinstance(verdict, Verdict) and isinstance(decisions, Decisions)
    # one route for all three: one group, its prefixes in order, keyed by the first
    [group] = decisions.groups
    assert group.prefixes == tuple(sorted(prefixes)) and outputs[1].key == "185.50.0.0/24"
    assert group.best is not None and group.best.session == a
    made = per_prefix(decisions)
    assert [d.event_id for d in made] == [f"ixrs.routes:0:7/{p}" for p in sorted(prefixes)]
    assert all(d.header is decisions.header for d in made)
