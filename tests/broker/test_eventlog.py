"""Events through the real embedded broker (Tansu): nothing mocked."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ixrs import admin, topics
from ixrs.eventlog import EventProducer, SingleObjectFraming, read_partition
from ixrs.incarnation import DERIVED_DIR, ensure_incarnation, reconcile_state_dir
from schemas import events
from tests.strategies import EVENTS

FRAMING = SingleObjectFraming()


def test_every_event_type_comes_back_equal(broker, topic_prefix: str) -> None:
    admin.ensure_topics(broker.bootstrap, topic_prefix, 2)
    topic = topics.SESSIONS.name(topic_prefix)
    sent: list[object] = []

    # One event of every type per example, so every type goes through the broker.
    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.tuples(*(EVENTS[cls] for cls in events.EVENT_TYPES)))
    def collect(batch: tuple[object, ...]) -> None:
        sent.extend(batch)

    collect()
    producer = EventProducer(broker.bootstrap, FRAMING)
    for event in sent:
        producer.produce(topic, event, key="k", partition=0)
    producer.flush()
    got = [event for _offset, event in read_partition(broker.bootstrap, topic, 0, FRAMING)]
    assert got == sent


def test_explicit_partition_is_kept(broker, topic_prefix: str) -> None:
    admin.ensure_topics(broker.bootstrap, topic_prefix, 4)
    topic = topics.ROUTES.name(topic_prefix)
    producer = EventProducer(broker.bootstrap, FRAMING)
    header = events.EventHeader("p", 0, 0, "")
    for partition in range(4):
        producer.produce(topic, events.BrokerIncarnation(header, str(partition)),
                         partition=partition)
    producer.flush()
    for partition in range(4):
        got = [e.incarnation for _o, e in read_partition(broker.bootstrap, topic, partition,
                                                         FRAMING)]
        assert got == [str(partition)]


def test_topics_are_created_with_their_counts_and_retention(broker, topic_prefix: str) -> None:
    admin.ensure_topics(broker.bootstrap, topic_prefix, 3)
    admin.ensure_topics(broker.bootstrap, topic_prefix, 3)  # idempotent
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics
    for spec in topics.ALL:
        assert len(md[spec.name(topic_prefix)].partitions) == spec.partitions(3)


def test_a_different_partition_count_is_refused(broker, topic_prefix: str) -> None:
    admin.ensure_topics(broker.bootstrap, topic_prefix, 3)
    with pytest.raises(admin.TopicMismatch, match=r"routes has 3 partitions .* asks for 5"):
        admin.ensure_topics(broker.bootstrap, topic_prefix, 5)


def test_incarnation_is_written_once(broker, topic_prefix: str) -> None:
    admin.ensure_topics(broker.bootstrap, topic_prefix, 1)
    first = ensure_incarnation(broker.bootstrap, topic_prefix, FRAMING)
    assert ensure_incarnation(broker.bootstrap, topic_prefix, FRAMING) == first


def test_state_of_another_incarnation_is_discarded(tmp_path: Path) -> None:
    first = reconcile_state_dir(tmp_path, "A")
    assert first.discarded_from is None
    store = tmp_path / DERIVED_DIR / "store.db"
    store.write_text("derived from A")
    kept = tmp_path / "archive"
    kept.mkdir()
    assert reconcile_state_dir(tmp_path, "A").discarded_from is None
    assert store.exists()
    again = reconcile_state_dir(tmp_path, "B")
    assert again.discarded_from == "A"
    assert not store.exists()
    assert kept.exists(), "history outside derived/ is never discarded"
