"""Writing events to Kafka and reading them back: the thin I/O edge of the log.

Decisions never import this module. Producers stamp every event with an
:class:`~schemas.events.EventHeader` from a :class:`Stamper`; the framing
(single-object or Confluent) is chosen once from the deployment settings.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from schemas import codec
from schemas.decoder import constructor
from schemas.events import EventHeader


class Framing(Protocol):
    def encode(self, topic: str, event: Any) -> bytes: ...
    def decode(self, data: bytes) -> Any: ...
    def event_class(self, data: bytes) -> type | None: ...
    def header(self, data: bytes) -> EventHeader: ...


class SingleObjectFraming:
    """Avro single-object encoding: no registry needed."""

    def encode(self, topic: str, event: Any) -> bytes:
        return codec.encode(event)

    def decode(self, data: bytes) -> Any:
        return codec.decode(data)

    def event_class(self, data: bytes) -> type | None:
        return codec.event_class(data)

    def header(self, data: bytes) -> EventHeader:
        """The header alone (config_version left empty), without decoding the body."""
        return codec.peek_header(data, 10)


def framing_for(schema_registry: str | None) -> Framing:
    if not schema_registry:
        return SingleObjectFraming()
    from schemas.registry import ConfluentFraming  # only deployments with a registry need it

    return ConfluentFraming(schema_registry)


def now_us() -> int:
    return time.time_ns() // 1000


class Stamper:
    """Issues event headers: one producer id, a gap-free sequence, the event time."""

    def __init__(self, role: str, config_version: str = "",
                 clock: Callable[[], int] = now_us) -> None:
        self.producer_id = f"{role}-{uuid.uuid4()}"
        self.config_version = config_version
        self._seq = 0
        self._clock = clock

    def header(self, config_version: str | None = None) -> EventHeader:
        """The next header; ``config_version`` for an event decided under another version
        than the stamper's (a partition that has not reached the new version's marker)."""
        seq, self._seq = self._seq, self._seq + 1
        version = self.config_version if config_version is None else config_version
        return _new_header(self.producer_id, seq, self._clock(), version)


# One header per event (a worker stamps a Decision per decided prefix): built by slot
# setters, in half the time of the frozen dataclass's __init__.
_new_header = constructor(EventHeader)


def producer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "linger.ms": 5,
        # Keyed records without an explicit partition land where Java and faust
        # clients would put them.
        "partitioner": "murmur2_random",
        **extra,
    }


class EventProducer:
    """Produces events; every send is acknowledged before :meth:`flush` returns."""

    def __init__(self, bootstrap: str, framing: Framing, **extra: Any) -> None:
        self._producer = Producer(producer_config(bootstrap, **extra))
        self.framing = framing
        self._errors: list[KafkaError] = []

    def _on_delivery(self, err: KafkaError | None, _msg: Any) -> None:
        if err is not None:
            self._errors.append(err)

    def produce(self, topic: str, event: Any, key: str | None = None,
                partition: int | None = None) -> None:
        value = self.framing.encode(topic, event)
        kwargs: dict[str, Any] = {"key": key, "value": value, "on_delivery": self._on_delivery}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self._producer.produce(topic, **kwargs)
                return
            except BufferError:
                self._producer.poll(0.1)  # the local queue is full: let deliveries drain

    def flush(self, timeout: float = 30.0) -> None:
        left = self._producer.flush(timeout)
        if left:
            raise RuntimeError(f"{left} events not acknowledged by the broker within {timeout}s")
        if self._errors:
            err, self._errors = self._errors[0], []
            raise RuntimeError(f"broker refused an event: {err}")


def consumer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": f"ixrs-reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        # Tansu's ListOffsets is wrong after batched produce (KAFKA.md): the end
        # of a partition is learnt from fetch responses, via partition EOF.
        "enable.partition.eof": True,
        "session.timeout.ms": 6000,
        **extra,
    }


def read_partition(bootstrap: str, topic: str, partition: int, framing: Framing,
                   start: int = OFFSET_BEGINNING,
                   timeout: float = 30.0) -> Iterator[tuple[int, Any]]:
    """Every event of one partition from ``start`` to its current end, in order."""
    for _partition, offset, event in read_partitions(bootstrap, topic, [partition], framing,
                                                     start, timeout):
        yield offset, event


def read_partitions(bootstrap: str, topic: str, partitions: list[int], framing: Framing,
                    start: int = OFFSET_BEGINNING,
                    timeout: float = 30.0) -> Iterator[tuple[int, int, Any]]:
    """(partition, offset, event) of several partitions up to their current ends;
    in order within each partition."""
    for partition, offset, value in read_records(bootstrap, topic, partitions, start, timeout):
        yield partition, offset, framing.decode(value)


def read_records(bootstrap: str, topic: str, partitions: list[int],
                 start: int = OFFSET_BEGINNING,
                 timeout: float = 30.0) -> Iterator[tuple[int, int, bytes]]:
    """(partition, offset, record value) of several partitions up to their current ends, in
    order within each partition; undecoded, for readers that look before they decode."""
    consumer = Consumer(consumer_config(bootstrap, **{"fetch.wait.max.ms": 20}))
    try:
        consumer.assign([TopicPartition(topic, p, start) for p in partitions])
        open_partitions = set(partitions)
        deadline = time.monotonic() + timeout
        while open_partitions:
            msg = consumer.poll(0.2)
            if msg is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no end of {topic}{sorted(open_partitions)} in {timeout}s")
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    open_partitions.discard(msg.partition())
                    continue
                raise RuntimeError(f"reading {topic}[{msg.partition()}]: {err}")
            deadline = time.monotonic() + timeout
            yield msg.partition(), msg.offset(), msg.value()
    finally:
        consumer.close()


def partition_count(bootstrap: str, topic: str, timeout: float = 10.0) -> int:
    """How many partitions a topic has (0: no such topic)."""
    consumer = Consumer(consumer_config(bootstrap))
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            return 0
        return len(meta.partitions)
    finally:
        consumer.close()
