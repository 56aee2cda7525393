"""The sans-IO session FSM, driven with plain bytes and a fake clock."""

from __future__ import annotations

import pytest

from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import SessionState
from speaker.codec import (
    KEEPALIVE,
    BgpError,
    CeaseSubcode,
    ErrorCode,
    FourOctetAs,
    FsmSubcode,
    Multiprotocol,
    Negotiated,
    Notification,
    Open,
    OpenSubcode,
    Reader,
    RouteRefreshCapability,
    Update,
    encode,
)
from speaker.fsm import (
    MIN_SEND_HOLD_TIME,
    OPEN_HOLD_TIME,
    SEND_HOLD_TIMER_EXPIRED,
    Connection,
    ConnectRetry,
    Kind,
    Output,
    PeerPolicy,
    collision_loser,
)

RS_OPEN = Open(my_as=59900, hold_time=90, bgp_id="192.0.2.1",
               capabilities=(Multiprotocol(1, 1), FourOctetAs(59900), RouteRefreshCapability()))
PEER_OPEN = Open(my_as=20002, hold_time=30, bgp_id="192.0.2.2",
                 capabilities=(Multiprotocol(1, 1), FourOctetAs(20002), RouteRefreshCapability()))


def _expect_as(remote: Open) -> BgpError | None:
    if remote.asn() != 20002:
        return BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS,
                        remote.asn().to_bytes(4, "big")[-2:], "wrong AS")
    return None


def _conn() -> Connection:
    return Connection(PeerPolicy(RS_OPEN, 90, _expect_as))


def _sent(outputs: list[Output]) -> list[object]:
    """Decode what the FSM asked to send."""
    reader = Reader()
    for out in outputs:
        if out.kind == Kind.SEND:
            reader.feed(out.data)
    return list(reader)


def _states(outputs: list[Output]) -> list[SessionState]:
    return [o.state for o in outputs if o.kind == Kind.STATE]


def _established(now: float = 0.0) -> Connection:
    conn = _conn()
    conn.connection_made(now)
    conn.data_received(encode(PEER_OPEN, Negotiated()), now)
    out = conn.data_received(KEEPALIVE, now)
    assert _states(out) == [SessionState.ESTABLISHED]
    return conn


def test_passive_open_exchange() -> None:
    conn = _conn()
    out = conn.connection_made(0.0)
    assert _sent(out) == [RS_OPEN]
    assert _states(out) == [SessionState.OPENSENT]
    out = conn.data_received(encode(PEER_OPEN, Negotiated()), 1.0)
    assert [type(m).__name__ for m in _sent(out)] == ["Keepalive"]
    assert _states(out) == [SessionState.OPENCONFIRM]
    assert conn.hold_time == 30  # the smaller of the two (RFC 4271 §4.2)
    out = conn.data_received(KEEPALIVE, 2.0)
    assert _states(out) == [SessionState.ESTABLISHED]
    assert conn.negotiated is not None and conn.negotiated.four_octet_as


def test_messages_split_across_reads_are_reassembled() -> None:
    conn = _conn()
    conn.connection_made(0.0)
    data = encode(PEER_OPEN, Negotiated()) + KEEPALIVE
    outputs: list[Output] = []
    for i in range(len(data)):
        outputs += conn.data_received(data[i:i + 1], 0.0)
    assert _states(outputs) == [SessionState.OPENCONFIRM, SessionState.ESTABLISHED]


def test_update_is_handed_over_with_its_raw_bytes() -> None:
    conn = _established()
    attrs = Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                       as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (20002,)),))
    raw = encode(Update(attributes=attrs, nlri=("185.50.0.0/24",)), conn.negotiated)
    [out] = conn.data_received(raw, 1.0)
    assert out.kind == Kind.RECEIVED and out.data == raw
    assert isinstance(out.message, Update) and out.message.nlri == ("185.50.0.0/24",)


def _notification(outputs: list[Output]) -> Notification:
    [note] = [m for m in _sent(outputs) if isinstance(m, Notification)]
    assert outputs[-1].kind == Kind.CLOSE
    assert _states(outputs)[-1] == SessionState.IDLE
    return note


def test_wrong_peer_as_gets_bad_peer_as() -> None:
    conn = _conn()
    conn.connection_made(0.0)
    wrong = Open(my_as=20003, hold_time=90, bgp_id="192.0.2.2",
                 capabilities=(FourOctetAs(20003),))
    note = _notification(conn.data_received(encode(wrong, Negotiated()), 0.0))
    assert (note.code, note.subcode) == (ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS)


@pytest.mark.parametrize(("field", "value", "subcode"), [
    ("hold_time", 2, OpenSubcode.UNACCEPTABLE_HOLD_TIME),
    ("bgp_id", "0.0.0.0", OpenSubcode.BAD_BGP_IDENTIFIER),
    ("bgp_id", "224.0.0.1", OpenSubcode.BAD_BGP_IDENTIFIER),
])
def test_bad_open_fields(field: str, value: object, subcode: int) -> None:
    from dataclasses import replace

    conn = _conn()
    conn.connection_made(0.0)
    note = _notification(conn.data_received(encode(replace(PEER_OPEN, **{field: value}),
                                                   Negotiated()), 0.0))
    assert (note.code, note.subcode) == (ErrorCode.OPEN_MESSAGE, subcode)


def test_unsupported_version() -> None:
    conn = _conn()
    conn.connection_made(0.0)
    data = bytearray(encode(PEER_OPEN, Negotiated()))
    data[19] = 3  # version octet
    note = _notification(conn.data_received(bytes(data), 0.0))
    assert (note.code, note.subcode, note.data) == (
        ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION, b"\x00\x04")


def test_unexpected_message_in_open_sent() -> None:
    conn = _conn()
    conn.connection_made(0.0)
    note = _notification(conn.data_received(KEEPALIVE, 0.0))
    assert (note.code, note.subcode) == (ErrorCode.FSM, FsmSubcode.UNEXPECTED_IN_OPEN_SENT)


def test_open_in_established_is_an_fsm_error() -> None:
    conn = _established()
    note = _notification(conn.data_received(encode(PEER_OPEN, Negotiated()), 1.0))
    assert (note.code, note.subcode) == (ErrorCode.FSM, FsmSubcode.UNEXPECTED_IN_ESTABLISHED)


def test_hold_timer_expires_without_messages() -> None:
    conn = _established(0.0)
    for t in (10.0, 20.0, 29.9):  # keepalives go out, the session stays
        assert SessionState.IDLE not in _states(conn.on_timer(t))
    note = _notification(conn.on_timer(30.0))
    assert note.code == ErrorCode.HOLD_TIMER_EXPIRED


def test_keepalives_keep_the_session() -> None:
    conn = _established(0.0)
    for t in range(5, 200, 5):
        out = conn.data_received(KEEPALIVE, float(t))
        out += conn.on_timer(float(t))
        assert SessionState.IDLE not in _states(out)


def test_keepalives_are_sent_at_a_third_of_the_hold_time() -> None:
    conn = _established(0.0)
    assert conn.next_deadline() == 10.0
    assert [type(m).__name__ for m in _sent(conn.on_timer(10.0))] == ["Keepalive"]


def test_open_hold_time_before_the_open() -> None:
    conn = _conn()
    conn.connection_made(0.0)
    assert conn.next_deadline() == OPEN_HOLD_TIME
    assert _notification(conn.on_timer(OPEN_HOLD_TIME)).code == ErrorCode.HOLD_TIMER_EXPIRED


def test_our_own_read_pause_does_not_expire_the_hold_timer() -> None:
    conn = _established(0.0)
    conn.reading_paused(5.0)
    for t in range(5, 101, 5):
        assert SessionState.IDLE not in _states(conn.on_timer(float(t)))
    conn.reading_resumed(100.0)
    # 25 s of the hold time were left when reading paused at 5 s.
    assert SessionState.IDLE not in _states(conn.on_timer(124.0))
    assert _notification(conn.on_timer(125.0)).code == ErrorCode.HOLD_TIMER_EXPIRED


def test_send_hold_timer_closes_a_peer_that_stops_reading() -> None:
    conn = _established(0.0)
    for t in range(0, int(MIN_SEND_HOLD_TIME), 5):  # the peer keeps sending keepalives
        conn.data_received(KEEPALIVE, float(t))
    conn.write_stalled(10.0)
    for t in range(10, int(MIN_SEND_HOLD_TIME) + 10, 5):
        conn.data_received(KEEPALIVE, float(t))
        assert SessionState.IDLE not in _states(conn.on_timer(float(t)))
    note = _notification(conn.on_timer(10.0 + MIN_SEND_HOLD_TIME))
    assert note.code == SEND_HOLD_TIMER_EXPIRED


def test_write_progress_cancels_the_send_hold_timer() -> None:
    conn = _established(0.0)
    conn.write_stalled(1.0)
    conn.write_progressed()
    conn.data_received(KEEPALIVE, MIN_SEND_HOLD_TIME)
    assert SessionState.IDLE not in _states(conn.on_timer(MIN_SEND_HOLD_TIME + 2))


def test_notification_from_peer_closes() -> None:
    conn = _established()
    note = Notification(ErrorCode.CEASE, CeaseSubcode.ADMINISTRATIVE_SHUTDOWN)
    out = conn.data_received(encode(note, conn.negotiated), 1.0)
    assert _states(out) == [SessionState.IDLE]
    assert out[0].notification == note and not out[0].notification_sent
    assert out[-1].kind == Kind.CLOSE


def test_stop_sends_a_cease() -> None:
    conn = _established()
    note = _notification(conn.stop(1.0, CeaseSubcode.MAX_PREFIXES_REACHED))
    assert (note.code, note.subcode) == (ErrorCode.CEASE, CeaseSubcode.MAX_PREFIXES_REACHED)
    assert conn.data_received(KEEPALIVE, 2.0) == []


def test_garbage_gets_a_header_error() -> None:
    conn = _conn()
    conn.connection_made(0.0)
    note = _notification(conn.data_received(b"\x00" * 19, 0.0))
    assert note.code == ErrorCode.MESSAGE_HEADER


@pytest.mark.parametrize(("local", "remote", "existing", "existing_out", "new_out", "loser"), [
    # an Established session always wins (RFC 4271 §6.8)
    ("192.0.2.1", "192.0.2.9", SessionState.ESTABLISHED, True, False, "new"),
    ("192.0.2.9", "192.0.2.1", SessionState.ESTABLISHED, False, True, "new"),
    # our identifier is lower: the connection we initiated goes
    ("192.0.2.1", "192.0.2.9", SessionState.OPENCONFIRM, True, False, "existing"),
    ("192.0.2.1", "192.0.2.9", SessionState.OPENCONFIRM, False, True, "new"),
    # our identifier is higher: the connection the peer initiated goes
    ("192.0.2.9", "192.0.2.1", SessionState.OPENCONFIRM, True, False, "new"),
    ("192.0.2.9", "192.0.2.1", SessionState.OPENCONFIRM, False, True, "existing"),
    # identifiers compare as numbers, not text
    ("192.0.2.10", "192.0.2.9", SessionState.OPENCONFIRM, True, False, "new"),
    # the peer reconnected while its old connection lingers: the newer stays
    ("192.0.2.1", "192.0.2.9", SessionState.OPENCONFIRM, False, False, "existing"),
])
def test_collision_resolution(local: str, remote: str, existing: SessionState,
                              existing_out: bool, new_out: bool, loser: str) -> None:
    assert collision_loser(local, remote, existing, existing_out, new_out) == loser


def test_connect_retry() -> None:
    retry = ConnectRetry(interval=30.0)
    assert retry.due(0.0)
    retry.attempted(0.0)
    assert not retry.due(29.9)
    assert retry.due(30.0)
