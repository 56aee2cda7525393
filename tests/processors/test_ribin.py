"""Adj-RIB-In rebuilt from routes events, markers included (pure)."""

from __future__ import annotations

from processors.ribin import AdjRibIn
from schemas.attributes import Attributes
from schemas.events import (
    Epoch,
    EventHeader,
    ReceivedRoutes,
    Session,
    SessionChange,
    SessionState,
    SpeakerIncarnation,
)

H = EventHeader("p", 0, 0, "")
A = Attributes(next_hop="192.0.2.2")


def _session(address: str = "192.0.2.2", inc: str = "i1", counter: int = 1) -> Session:
    return Session("speaker", address, 20002, Epoch(inc, counter))


def _announce(session: Session, *prefixes: str) -> ReceivedRoutes:
    return ReceivedRoutes(H, session, 1, A, prefixes)


def _down(session: Session) -> SessionChange:
    return SessionChange(H, session, SessionState.IDLE, SessionState.ESTABLISHED)


def test_announce_and_withdraw() -> None:
    rib = AdjRibIn()
    s = _session()
    assert rib.apply(_announce(s, "185.50.0.0/24", "185.50.1.0/24")) == {
        "185.50.0.0/24", "185.50.1.0/24"}
    assert rib.apply(ReceivedRoutes(H, s, 2, None, (), ("185.50.0.0/24",))) == {"185.50.0.0/24"}
    assert set(rib.routes) == {"185.50.1.0/24"}


def test_session_down_marker_drops_that_session_only() -> None:
    rib = AdjRibIn()
    a, b = _session("192.0.2.2"), _session("192.0.2.3")
    rib.apply(_announce(a, "185.50.0.0/24"))
    rib.apply(_announce(b, "185.50.0.0/24"))
    assert rib.apply(_down(a)) == {"185.50.0.0/24"}
    assert set(rib.routes["185.50.0.0/24"]) == {("speaker", "192.0.2.3")}


def test_late_events_of_a_closed_epoch_are_ignored() -> None:
    rib = AdjRibIn()
    old, new = _session(counter=1), _session(counter=2)
    rib.apply(_announce(new, "185.50.0.0/24"))
    assert rib.apply(_announce(old, "185.51.0.0/24")) == set()
    assert rib.apply(_down(old)) == set()
    assert set(rib.routes) == {"185.50.0.0/24"}


def test_new_epoch_replaces_the_old_sessions_routes() -> None:
    rib = AdjRibIn()
    rib.apply(_announce(_session(counter=1), "185.50.0.0/24"))
    rib.apply(_announce(_session(counter=2), "185.51.0.0/24"))
    assert set(rib.routes) == {"185.51.0.0/24"}


def test_speaker_incarnation_drops_the_previous_incarnation() -> None:
    rib = AdjRibIn()
    rib.apply(SpeakerIncarnation(H, "speaker", "i1"))
    rib.apply(_announce(_session("192.0.2.2", "i1"), "185.50.0.0/24"))
    rib.apply(_announce(_session("192.0.2.3", "i1"), "185.51.0.0/24"))
    assert rib.apply(SpeakerIncarnation(H, "speaker", "i2")) == {
        "185.50.0.0/24", "185.51.0.0/24"}
    assert rib.routes == {}
    assert rib.apply(_announce(_session("192.0.2.2", "i1", 9), "185.52.0.0/24")) == set()
    rib.apply(_announce(_session("192.0.2.2", "i2"), "185.53.0.0/24"))
    assert set(rib.routes) == {"185.53.0.0/24"}


def test_another_speakers_incarnation_leaves_ours_alone() -> None:
    rib = AdjRibIn()
    rib.apply(_announce(_session(), "185.50.0.0/24"))
    rib.apply(SpeakerIncarnation(H, "speaker-2", "x"))
    assert set(rib.routes) == {"185.50.0.0/24"}
