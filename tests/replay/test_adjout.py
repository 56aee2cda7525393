"""Every client's Adj-RIB-Out folded from sent records (replay/adjout.py)."""

from __future__ import annotations

from replay.adjout import AdjRibOut, SessionBook
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import (
    Epoch,
    EventHeader,
    Position,
    SentUpdate,
    Session,
    SessionChange,
    SessionState,
)
from speaker.codec import Update, encode
from speaker.codec.negotiated import Negotiated

H = EventHeader("speaker-1", 0, 1_000)
ATTRS = Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                   as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),))


def session(counter: int = 1, incarnation: str = "i1") -> Session:
    return Session("speaker-1", "192.0.2.3", 20003, Epoch(incarnation, counter))


def sent(update: Update, s: Session, kind: str = "update", two_octet: bool = False
         ) -> SentUpdate:
    raw = encode(update, Negotiated(four_octet_as=not two_octet)) if kind == "update" else b""
    return SentUpdate(H, s, raw, ("routes:0:1/185.50.0.0/24",), kind)


def fold(*records: SentUpdate, book: SessionBook | None = None) -> AdjRibOut:
    out = AdjRibOut(book or SessionBook())
    for offset, record in enumerate(records):
        out.apply(Position("sent", 0, offset), record)
    return out


def held(out: AdjRibOut) -> dict[str, set[str]]:
    return {rib.session.peer_address: set(rib.routes) for rib in out.live()}


def test_announcements_and_withdrawals_in_order() -> None:
    s = session()
    out = fold(sent(Update(attributes=ATTRS, nlri=("185.50.0.0/24", "185.50.1.0/24")), s),
               sent(Update(withdrawn=("185.50.0.0/24",)), s))
    assert held(out) == {"192.0.2.3": {"185.50.1.0/24"}}
    route = next(iter(out.live())).routes["185.50.1.0/24"]
    assert route.attributes.as_path == ATTRS.as_path
    assert route.position == Position("sent", 0, 0)


def test_a_new_session_starts_empty_and_a_late_old_message_changes_nothing() -> None:
    old, new = session(1), session(2)
    out = fold(sent(Update(attributes=ATTRS, nlri=("185.50.0.0/24",)), old),
               sent(Update(attributes=ATTRS, nlri=("185.51.0.0/24",)), new),
               sent(Update(attributes=ATTRS, nlri=("185.52.0.0/24",)), old))
    assert held(out) == {"192.0.2.3": {"185.51.0.0/24"}}


def test_a_session_that_went_down_holds_nothing() -> None:
    s = session()
    book = SessionBook()
    book.apply(SessionChange(H, s, SessionState.ESTABLISHED, SessionState.OPENCONFIRM))
    book.apply(SessionChange(H, s, SessionState.IDLE, SessionState.ESTABLISHED))
    assert held(fold(sent(Update(attributes=ATTRS, nlri=("185.50.0.0/24",)), s),
                     book=book)) == {}


def test_a_two_octet_session_is_read_as_it_was_written() -> None:
    s = session()
    book = SessionBook()
    book.apply(SessionChange(H, s, SessionState.ESTABLISHED, SessionState.OPENCONFIRM,
                             four_octet_as=False))
    wide = Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                      as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (196615, 3333)),))
    out = fold(sent(Update(attributes=wide, nlri=("185.50.0.0/24",)), s, two_octet=True),
               book=book)
    assert next(iter(out.live())).routes["185.50.0.0/24"].attributes.as_path == wide.as_path


def test_enhanced_route_refresh_drops_what_was_not_sent_again() -> None:
    s = session()
    out = fold(sent(Update(attributes=ATTRS, nlri=("185.50.0.0/24", "185.50.1.0/24")), s),
               sent(Update(), s, kind="borr"),
               sent(Update(attributes=ATTRS, nlri=("185.50.1.0/24",)), s),
               sent(Update(), s, kind="eorr"))
    assert held(out) == {"192.0.2.3": {"185.50.1.0/24"}}
