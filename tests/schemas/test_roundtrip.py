from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import codec, events, splice
from schemas.codec import DecodeError
from tests.strategies import EVENTS


def test_every_event_type_has_a_strategy() -> None:
    assert set(EVENTS) == set(events.EVENT_TYPES)


@pytest.mark.parametrize("cls", events.EVENT_TYPES, ids=lambda c: c.__name__)
def test_single_object_round_trip(cls: type) -> None:
    @settings(max_examples=60, deadline=None)
    @given(EVENTS[cls])
    def check(event: object) -> None:
        data = codec.encode(event)
        assert data[:2] == b"\xc3\x01"
        assert codec.decode(data) == event

    check()


@given(st.binary(max_size=64))
def test_garbage_is_refused_with_decode_error(data: bytes) -> None:
    # Any outcome but another exception type is fine: random bytes may even decode.
    with contextlib.suppress(DecodeError):
        codec.decode(data)


@given(EVENTS[events.ReceivedRoutes], st.data())
def test_truncated_event_is_refused(event: object, data: st.DataObject) -> None:
    encoded = codec.encode(event)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(DecodeError):
        codec.decode(encoded[:cut])


def test_schema_and_dataclass_field_order_must_agree() -> None:
    # The decoders build objects positionally; a mismatch must be refused at load.
    broken = dict(codec.BY_NAME["ixrs.BrokerIncarnation"].info.expanded)
    broken["fields"] = list(reversed(broken["fields"]))
    with pytest.raises(TypeError, match="BrokerIncarnation fields"):
        codec._Compiler().build(broken)


@settings(max_examples=300, deadline=None)
@given(EVENTS[events.Decision], st.data())
def test_spliced_decisions_are_byte_for_byte_what_fastavro_writes(event: events.Decision,
                                                                  data: st.DataObject) -> None:
    # the same route object as best and as a delta, as the worker makes them: cached bytes
    if event.best is not None and data.draw(st.booleans()):
        outcome = events.ClientOutcome("192.0.2.9", event.best, "as-path-length")
        event = dataclasses.replace(event, outcomes=(*event.outcomes, outcome))
    assert codec.encode_body(event) == codec.generic_body(event)
    assert codec.encode_body(event) == codec.generic_body(event), "and again, from the cache"


def test_the_spliced_writer_refuses_a_schema_it_does_not_know() -> None:
    schema = dict(codec.BY_NAME["ixrs.Decision"].info.expanded)
    schema["fields"] = [*schema["fields"], {"name": "extra", "type": "string"}]
    with pytest.raises(TypeError, match="splice"):
        splice._check(schema)
