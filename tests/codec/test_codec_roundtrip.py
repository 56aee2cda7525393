"""decode(encode(m)) == m, for every message type and session context."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from speaker.codec import Negotiated, Reader, Update, decode, encode
from tests.codec import wire_strategies as ws
from tests.codec.wire_strategies import UNHURRIED

SESSIONS = [
    Negotiated(four_octet_as=four, extended_message=ext, ibgp=ibgp)
    for four in (True, False)
    for ext in (True, False)
    for ibgp in (True, False)
]


def _encoded(message, negotiated: Negotiated) -> bytes | None:
    """The message's bytes, or None when it is too long for the session (the
    packer's job, tested on its own)."""
    try:
        return encode(message, negotiated)
    except ValueError as exc:
        assert "exceeds" in str(exc)
        return None


@st.composite
def session_and_message(draw: st.DrawFn):
    negotiated = draw(st.sampled_from(SESSIONS))
    return negotiated, draw(ws.messages(negotiated))


@settings(UNHURRIED, max_examples=400)
@given(session_and_message())
def test_every_message_type_round_trips(case) -> None:
    negotiated, message = case
    data = _encoded(message, negotiated)
    if data is not None:
        assert decode(data, negotiated) == message


@settings(UNHURRIED, max_examples=200)
@given(st.sampled_from(SESSIONS).flatmap(lambda n: st.tuples(st.just(n), ws.updates(n))))
def test_updates_round_trip_without_notes(case) -> None:
    negotiated, update = case
    data = _encoded(update, negotiated)
    if data is None:
        return
    decoded = decode(data, negotiated)
    assert isinstance(decoded, Update)
    assert decoded == update
    assert decoded.notes == ()
    assert not decoded.treat_as_withdraw


@settings(UNHURRIED, max_examples=50)
@given(ws.updates(Negotiated(extended_message=True), size=400))
def test_extended_messages_carry_updates_beyond_4096_octets(update: Update) -> None:
    negotiated = Negotiated(extended_message=True)
    data = encode(update, negotiated)
    assert decode(data, negotiated) == update


def test_an_update_beyond_4096_octets_is_refused_without_extended_messages() -> None:
    update = Update(withdrawn=tuple(f"10.{i // 256}.{i % 256}.0/24" for i in range(1100)))
    assert len(encode(update, Negotiated(extended_message=True))) > 4096
    try:
        encode(update, Negotiated())
    except ValueError:
        return
    raise AssertionError("encoded an UPDATE longer than 4096 octets")


@settings(UNHURRIED, max_examples=100)
@given(st.data())
def test_reader_splits_a_stream_fed_in_arbitrary_pieces(data: st.DataObject) -> None:
    negotiated = data.draw(st.sampled_from(SESSIONS))
    messages = data.draw(st.lists(ws.messages(negotiated), max_size=6))
    wire = [_encoded(m, negotiated) for m in messages]
    messages = [m for m, w in zip(messages, wire, strict=True) if w is not None]
    stream = b"".join(w for w in wire if w is not None)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    reader = Reader(negotiated)
    out = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        reader.feed(stream[start:stop])
        out.extend(reader)
    assert out == messages
    assert reader.buffered() == 0


def test_path_attributes_decoded_again_are_the_same_and_follow_the_session() -> None:
    # Decoded attributes are remembered by their bytes and the session's Negotiated (by
    # identity): the same UPDATE from a 2-octet AS session reads its AS4_PATH.
    from dataclasses import replace

    from schemas.attributes import AsPathSegment, Attributes, SegmentType

    attrs = Attributes(as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 4200000000)),),
                       next_hop="192.0.2.1", communities=((65001, 1),))
    update = Update(attributes=attrs, nlri=("203.0.113.0/24",))
    four, two = Negotiated(), Negotiated(four_octet_as=False)
    raw_four, raw_two = encode(update, four), encode(update, two)
    first = decode(raw_four, four)
    assert first == update and decode(raw_four, four).attributes is first.attributes
    assert decode(raw_four, replace(four)) == update  # an equal Negotiated, another object
    assert decode(raw_two, two) == update  # AS_TRANS in AS_PATH, the true ASN in AS4_PATH
    assert decode(raw_two, four) != update  # read as 4-octet: AS_TRANS stays, AS4_PATH kept
