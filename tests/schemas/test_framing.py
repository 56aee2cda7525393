"""Single-object and Confluent framings both round-trip every event type."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings

from ixrs.eventlog import SingleObjectFraming
from schemas import events
from schemas.codec import DecodeError
from schemas.registry import ConfluentFraming, subject_name
from tests.strategies import EVENTS


@pytest.fixture
def registry_url() -> str:
    return f"mock://{uuid.uuid4()}"


@pytest.mark.parametrize("cls", events.EVENT_TYPES, ids=lambda c: c.__name__)
def test_confluent_round_trip(cls: type, registry_url: str) -> None:
    framing = ConfluentFraming(registry_url)

    @settings(max_examples=20, deadline=None)
    @given(EVENTS[cls])
    def check(event: object) -> None:
        data = framing.encode("ixrs.routes", event)
        assert data[0] == 0
        assert framing.decode(data) == event

    check()


def test_confluent_uses_topic_record_name_strategy(registry_url: str) -> None:
    framing = ConfluentFraming(registry_url)
    framing.encode("ixrs.broker", events.BrokerIncarnation(
        events.EventHeader("p", 0, 0, ""), "u"))
    subjects = framing._client.get_subjects()
    assert subjects == [subject_name("ixrs.broker", "ixrs.BrokerIncarnation")]
    assert subjects == ["ixrs.broker-ixrs.BrokerIncarnation"]


def test_a_second_reader_resolves_ids_from_the_registry(registry_url: str) -> None:
    event = events.BrokerIncarnation(events.EventHeader("p", 0, 0, ""), "u")
    writer = ConfluentFraming(registry_url)
    data = writer.encode("ixrs.broker", event)
    # A mock registry lives in one client object; a fresh framing over it has no cached ids.
    reader = ConfluentFraming(registry_url, client=writer._client)
    assert reader.decode(data) == event


def test_framings_refuse_each_other(registry_url: str) -> None:
    event = events.BrokerIncarnation(events.EventHeader("p", 0, 0, ""), "u")
    single, confluent = SingleObjectFraming(), ConfluentFraming(registry_url)
    with pytest.raises(DecodeError):
        confluent.decode(single.encode("t", event))
    with pytest.raises(DecodeError):
        single.decode(confluent.encode("t", event))
