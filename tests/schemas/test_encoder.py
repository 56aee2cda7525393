"""The compiled Avro encoder against fastavro (codec.generic_body), byte for byte."""

from __future__ import annotations

import copy
import dataclasses
import io
from typing import Any

import pytest
from fastavro import schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import codec, encoder, events
from tests.strategies import EVENTS, attributes, route, session


def _share(obj: Any, pools: dict[type, list[Any]], draw: Any) -> Any:
    """``obj`` with some of its sessions, attributes and routes swapped for objects of a
    small pool: the same objects in several places and several events, as processors make
    them (so the identity caches are hit)."""
    if isinstance(obj, tuple):
        return tuple(_share(x, pools, draw) for x in obj)
    if not dataclasses.is_dataclass(obj):
        return obj
    kind = type(obj)
    if kind in pools and draw(st.booleans()):
        return draw(st.sampled_from(pools[kind]))
    changes = {f.name: _share(getattr(obj, f.name), pools, draw)
               for f in dataclasses.fields(obj)}
    return dataclasses.replace(obj, **changes)


def _check(event: Any) -> None:
    expected = codec.generic_body(event)
    assert codec.encode_body(event) == expected
    assert codec.encode_body(event) == expected, "and again, from the caches"
    assert codec.decode(codec.encode(event)) == event


@pytest.mark.parametrize("cls", events.EVENT_TYPES, ids=lambda c: c.__name__)
def test_compiled_encoder_is_byte_for_byte_what_fastavro_writes(cls: type) -> None:
    @settings(max_examples=150, deadline=None)
    @given(EVENTS[cls])
    def check(event: object) -> None:
        _check(event)

    check()


@pytest.mark.parametrize("cls", events.EVENT_TYPES, ids=lambda c: c.__name__)
def test_events_sharing_objects_are_byte_for_byte_what_fastavro_writes(cls: type) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.lists(EVENTS[cls], min_size=1, max_size=5),
           st.lists(session, min_size=1, max_size=3),
           st.lists(attributes, min_size=1, max_size=3),
           st.data())
    def check(batch: list[Any], sessions: list[Any], attrs: list[Any],
              data: st.DataObject) -> None:
        routes = [events.Route(data.draw(st.sampled_from(sessions)), a, "192.0.2.1")
                  for a in attrs]
        pools = {events.Session: sessions, events.Attributes: attrs, events.Route: routes}
        shared = [_share(e, pools, data.draw) for e in batch]
        # and the very same objects inside events of other types
        others = [events.ReceivedRoutes(shared[0].header, sessions[0], 1, attrs[0]),
                  events.Decision(shared[0].header, "t:0:1", events.Position("t", 0, 1),
                                  "10.0.0.0/8", routes[0], "x", 1,
                                  (events.ClientOutcome("192.0.2.2", routes[-1], "y"),))]
        for event in [*shared, *others, *shared]:
            _check(event)

    check()


def test_cached_objects_are_kept_beside_their_bytes() -> None:
    @settings(max_examples=30, deadline=None)
    @given(route)
    def check(r: events.Route) -> None:
        decision = events.Decision(events.EventHeader("p", 1, 2), "t:0:1",
                                   events.Position("t", 0, 1), "10.0.0.0/8", r)
        codec.encode_body(decision)
        caches = encoder.caches(codec._ENCODERS)
        for obj in (r, r.session, r.attributes):
            name = f"ixrs.{type(obj).__name__}"
            kept, data = caches[name][id(obj)]
            assert kept is obj  # its id cannot be reused while the entry lives
            assert isinstance(data, bytes)

    check()


def test_full_caches_are_cleared_and_stay_exact() -> None:
    encoders = encoder.compile_encoders(
        [et.info.expanded for et in codec.EVENT_TYPES.values()], codec._PY_TYPES)
    namespace = next(iter(encoders.values())).__globals__
    namespace["_LIMIT"] = 2
    write = encoders["ixrs.Decision"]

    @settings(max_examples=100, deadline=None)
    @given(st.lists(EVENTS[events.Decision], min_size=1, max_size=6))
    def check(batch: list[events.Decision]) -> None:
        for event in [*batch, *batch]:
            assert write(event) == codec.generic_body(event)
        assert all(len(c) <= 2 for c in encoder.caches(encoders).values())

    check()


def test_every_event_type_has_a_compiled_encoder() -> None:
    assert set(codec._ENCODERS) == set(events.EVENT_TYPES)


@settings(max_examples=500, deadline=None)
@given(st.integers(-(2**63), 2**63 - 1))
def test_longs_are_written_as_fastavro_writes_them(n: int) -> None:
    buf = io.BytesIO()
    schemaless_writer(buf, "long", n)
    out = bytearray()
    encoder.write_long(n, out)
    assert bytes(out) == encoder.zigzag(n) == buf.getvalue()
    header = events.EventHeader("p", n, -n if n > -(2**63) else 0, "")
    _check(events.BrokerIncarnation(header, "x"))


def test_large_lengths_and_counts_are_written_as_fastavro_writes_them() -> None:
    header = events.EventHeader("p" * 9000, 2**40, 2**62, "é" * 5000)
    sess = events.Session("s", "192.0.2.1", 2**32 - 1, events.Epoch("i", 2**50))
    _check(events.RawUpdate(header, sess, 10**12, bytes(range(256)) * 80))
    _check(events.ReceivedRoutes(header, sess, 1, None,
                                 tuple(f"10.{i >> 8}.{i & 255}.0/24" for i in range(9000))))
    _check(events.ConfigVersion(header, "v", "{}" * 20_000,
                                tuple(events.SourceFile(str(i), "") for i in range(8200))))


def _event_schemas() -> list[dict[str, Any]]:
    return [copy.deepcopy(et.info.expanded) for et in codec.EVENT_TYPES.values()]


def _field(schemas: list[dict[str, Any]], record: str, name: str) -> dict[str, Any]:
    event = next(s for s in schemas if s["name"] == record)
    return next(f for f in event["fields"] if f["name"] == name)


def _compile(schemas: list[dict[str, Any]]) -> None:
    encoder.compile_encoders(schemas, codec._PY_TYPES)


def test_the_current_schemas_compile() -> None:
    _compile(_event_schemas())


def test_a_field_the_dataclass_lacks_is_refused() -> None:
    schemas = _event_schemas()
    decision = next(s for s in schemas if s["name"] == "ixrs.Decision")
    decision["fields"].append({"name": "extra", "type": "string"})
    with pytest.raises(TypeError, match="Decision fields"):
        _compile(schemas)


def test_reordered_fields_are_refused() -> None:
    schemas = _event_schemas()
    _field(schemas, "ixrs.Verdict", "input")["type"] = {
        "type": "record", "name": "ixrs.Position",
        "fields": [{"name": "partition", "type": "int"}, {"name": "topic", "type": "string"},
                   {"name": "offset", "type": "long"}]}
    with pytest.raises(TypeError, match="Position"):
        _compile(schemas)


@pytest.mark.parametrize("kind", [
    {"type": "map", "values": "string"},
    {"type": "fixed", "name": "ixrs.Eight", "size": 8},
    {"type": "string", "logicalType": "uuid"},
    ["null", "string", "long"],
    ["string", "long"],
    "ixrs.Nowhere",
], ids=["map", "fixed", "logical", "union3", "union-no-null", "unknown-name"])
def test_types_the_encoder_cannot_write_exactly_are_refused(kind: Any) -> None:
    schemas = _event_schemas()
    _field(schemas, "ixrs.BrokerIncarnation", "incarnation")["type"] = kind
    with pytest.raises(TypeError):
        _compile(schemas)


def test_enum_symbols_must_be_the_intenum_names() -> None:
    schemas = _event_schemas()
    state = _field(schemas, "ixrs.SessionChange", "state")["type"]
    state["symbols"] = [*state["symbols"], "DELETED"]
    with pytest.raises(TypeError, match="SessionState"):
        _compile(schemas)


def test_a_named_type_defined_differently_in_two_events_is_refused() -> None:
    schemas = _event_schemas()
    header = _field(schemas, "ixrs.Verdict", "header")["type"]
    header["fields"][1]["type"] = "int"  # seq: long elsewhere
    with pytest.raises(TypeError, match="EventHeader is defined differently"):
        _compile(schemas)
