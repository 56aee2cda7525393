from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import codec, events
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
