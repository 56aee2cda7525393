"""The compiled Avro decoder against fastavro (codec.generic_decode_body)."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import codec, events
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.encoder import zigzag
from tests.strategies import EVENTS


@pytest.mark.parametrize("cls", events.EVENT_TYPES, ids=lambda c: c.__name__)
def test_compiled_decoder_reads_what_fastavro_reads(cls: type) -> None:
    et = codec.EVENT_TYPES[cls]

    @settings(max_examples=150, deadline=None)
    @given(EVENTS[cls])
    def check(event: object) -> None:
        body = codec.encode_body(event)
        assert codec.decode_body(et, body) == codec.generic_decode_body(et, body) == event
        assert codec.decode_body(et, body) == event, "and again, from the interning tables"

    check()


ATTRS = Attributes(origin=Origin.IGP, next_hop="192.0.2.2", med=5,
                   as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 21000)),),
                   communities=((65000, 1), (65000, 2)))
SESSION = events.Session("sp", "192.0.2.2", 20002, events.Epoch("i", 1), "192.0.2.2")
HEADER = events.EventHeader("p", 1, 2, "v")


def test_equal_attribute_sets_of_different_events_decode_to_one_object() -> None:
    first = events.ReceivedUpdates(HEADER, SESSION, (
        events.UpdatePart(1, ATTRS, ("185.0.0.0/24",)),))
    second = events.ReceivedUpdates(HEADER, SESSION, (
        events.UpdatePart(2, Attributes(**{f: getattr(ATTRS, f) for f in
                                           ATTRS.__dataclass_fields__}), ("185.1.0.0/24",)),
        events.UpdatePart(3, None, (), ("185.2.0.0/24",)),))
    a = codec.decode(codec.encode(first))
    b = codec.decode(codec.encode(second))
    assert a.parts[0].attributes is b.parts[0].attributes
    assert a.session is b.session
    assert b.parts[1].attributes is None


def _long(n: int) -> bytes:
    return zigzag(n)


def _string(s: str) -> bytes:
    return _long(len(s.encode())) + s.encode()


def test_arrays_in_several_blocks_and_with_block_sizes_are_read() -> None:
    # Other Avro writers may split an array into blocks, and give a block's size in octets
    # after a negative count (Avro spec, "Arrays"); fastavro writes one block.
    header = b"".join([_string("p"), _long(1), _long(2), _string("v")])
    items = [_string("185.0.0.0/24"), _string("185.1.0.0/24"), _string("185.2.0.0/24")]
    array = (_long(1) + items[0]
             + _long(-2) + _long(len(items[1] + items[2])) + items[1] + items[2] + _long(0))
    body = header + b"".join([
        _string("sp"), _string("192.0.2.2"), _long(20002), _string("i"), _long(1),
        _string("192.0.2.2"),  # session
        _long(7), _long(0),  # update_seq, attributes: null
        _long(0), array,  # announced: none, withdrawn: three
        _long(0),  # notes
    ])
    et = codec.EVENT_TYPES[events.ReceivedRoutes]
    event = codec.decode_body(et, body)
    assert event.withdrawn == ("185.0.0.0/24", "185.1.0.0/24", "185.2.0.0/24")
    assert event == codec.generic_decode_body(et, body)


@settings(max_examples=200, deadline=None)
@given(EVENTS[events.ReceivedUpdates], st.data())
def test_a_truncated_or_corrupt_body_is_a_decode_error(event: events.ReceivedUpdates,
                                                       data: st.DataObject) -> None:
    encoded = codec.encode(event)
    cut = data.draw(st.integers(10, len(encoded) - 1))
    with pytest.raises(codec.DecodeError):
        codec.decode(encoded[:cut])
    # A flipped octet either still decodes (to something) or is a DecodeError: nothing else.
    at = data.draw(st.integers(10, len(encoded) - 1))
    flipped = encoded[:at] + bytes([encoded[at] ^ 0xFF]) + encoded[at + 1:]
    with contextlib.suppress(codec.DecodeError):
        codec.decode(flipped)


def test_records_that_begin_alike_are_told_apart() -> None:
    # Looked up by their first octets before they are walked: two routes of one session
    # whose attribute sets differ only past that point must not be taken for each other.
    long_path = (AsPathSegment(SegmentType.AS_SEQUENCE, tuple(range(4_200_000_000,
                                                                    4_200_000_040))),)
    routes = [events.Route(SESSION, Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                                               as_path=long_path, communities=((65000, n),)),
                           "192.0.2.2") for n in range(3)]
    position = events.Position("routes", 0, 1)
    for _round in range(2):  # the second time, every route is found by its first octets
        for n, route in enumerate(routes):
            decision = events.Decision(HEADER, f"id{n}", position, "185.0.0.0/24", route,
                                       "as_path", 3, ())
            decoded = codec.decode(codec.encode(decision))
            assert decoded == decision
            assert decoded.best.attributes.communities == ((65000, n),)


def test_attribute_sets_of_every_length_in_routes_events_read_right() -> None:
    # An attribute set is found by its first octets and its known lengths before it is
    # walked. Here sets of many lengths come and go, each followed by other prefixes (the
    # octets after a record are no part of it), short ones among long ones that share their
    # first octets, so that the octets a set is looked up by shrink on the way.
    path = (AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 21000, 22000)),)
    sets = [Attributes(origin=Origin.IGP, next_hop="192.0.2.2", as_path=path,
                       communities=tuple((65000, c) for c in range(n % 5)),
                       med=n if n % 3 else None) for n in range(24)]
    sets += [Attributes(origin=Origin.IGP, as_path=())]  # the shortest there is
    et = codec.EVENT_TYPES[events.ReceivedUpdates]
    seen: dict[int, Attributes] = {}
    for round_ in range(3):
        for n in range(len(sets) * 2):
            attributes = sets[(n * 7 + round_) % len(sets)]
            event = events.ReceivedUpdates(HEADER, SESSION, (
                events.UpdatePart(n, attributes, (f"185.{n}.{round_}.0/24",)),
                events.UpdatePart(n + 1, sets[n % len(sets)], (f"186.{n}.0.0/16",)),))
            body = codec.encode_body(event)
            decoded = codec.decode_body(et, body)
            assert decoded == codec.generic_decode_body(et, body) == event
            for part in decoded.parts:
                assert seen.setdefault(sets.index(part.attributes), part.attributes) \
                    is part.attributes, "one object per attribute set"


def _decisions() -> list[events.Decision]:
    """Decisions as a table's stream has them: runs sharing their input position, route and
    client outcomes, then others."""
    routes = [events.Route(SESSION, Attributes(origin=Origin.IGP, next_hop="192.0.2.2",
                                               as_path=ATTRS.as_path, med=n), "192.0.2.2")
              for n in range(3)]
    outcomes = [(), (events.ClientOutcome("192.0.2.2", None, "no-candidate"),),
                (events.ClientOutcome("192.0.2.2", routes[1], "as_path"),
                 events.ClientOutcome("192.0.2.3"))]
    out = []
    for n in range(40):
        position = events.Position("routes", n % 3, n // 7)
        header = events.EventHeader("p", n, 1_764_200_000_000_000 + n, "v")
        out.append(events.Decision(header, f"id{n}", position, f"185.0.{n}.0/24",
                                   routes[n // 5 % 3] if n % 11 else None, "as_path", n % 4,
                                   outcomes[n // 4 % 3]))
    return out


def test_a_stream_of_decisions_reads_as_fastavro_reads_it() -> None:
    # The last record and array of each kind are looked up first: runs of equal ones, and
    # the changes between them, must all read right.
    et = codec.EVENT_TYPES[events.Decision]
    for _round in range(2):
        for decision in _decisions():
            body = codec.encode_body(decision)
            assert codec.decode_body(et, body) == codec.generic_decode_body(et, body) == decision


def test_a_decoder_leaving_the_header_reads_everything_after_it() -> None:
    # The speaker's reader steps over a decision's header (varints of one to eight octets,
    # strings of any length here) and must land exactly on the fields after it.
    unread = events.EventHeader("not read", 0, 0, "")
    read = codec.decoder_leaving(events.Decision, header=unread)
    decisions = _decisions()
    decisions.append(dataclasses.replace(
        decisions[-1], header=events.EventHeader("é" * 300, 2**62, -1, "v" * 70)))
    for decision in decisions:
        body = codec.encode_body(decision)
        got = read(body)
        assert got.header is unread
        assert got == dataclasses.replace(decision, header=unread)
        with pytest.raises((IndexError, ValueError)):  # as the full decoder's errors
            read(body[:len(body) // 2])


def test_a_truncated_decision_is_a_decode_error_after_whole_ones() -> None:
    # A record or array remembered from the decision before must not be found in a body cut
    # short, nor a cut one remembered.
    for decision in _decisions()[:12]:
        encoded = codec.encode(decision)
        assert codec.decode(encoded) == decision
        for cut in range(10, len(encoded)):
            with pytest.raises(codec.DecodeError):
                codec.decode(encoded[:cut])
            assert codec.decode(encoded) == decision


def test_objects_built_without_their_init_equal_those_built_with_it() -> None:
    from schemas.decoder import slot_setters

    decision = _decisions()[1]
    built = object.__new__(events.Decision)
    setters = slot_setters(events.Decision)
    assert setters is not None
    for setter, name in zip(setters, events.Decision.__dataclass_fields__, strict=True):
        setter(built, getattr(decision, name))
    assert built == decision and hash(built.input) == hash(decision.input)
    assert slot_setters(events.SessionState) is None  # not a dataclass
