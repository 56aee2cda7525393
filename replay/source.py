"""Where replay reads the log from: Kafka today, the Avro archive later (issue 9).

A source hands out the records of one topic partition in offset order, undecoded, so that
a reader can look at the bytes before paying for a decode (``explain`` skips every event
that cannot name its prefix). Decoding goes through the deployment's framing, the same as
every other reader of the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from ixrs import topics
from ixrs.eventlog import Framing, partition_count, read_records
from schemas.decisions import expand
from schemas.events import Decisions


class LogSource(Protocol):
    framing: Framing
    prefix: str  # the deployment's topic prefix

    def partitions(self, spec: topics.TopicSpec) -> int: ...

    def records(self, spec: topics.TopicSpec, partition: int,
                start: int = 0) -> Iterator[tuple[int, bytes]]: ...


class KafkaSource:
    """The topics of one deployment (one topic prefix) on a Kafka cluster."""

    def __init__(self, bootstrap: str, topic_prefix: str, framing: Framing) -> None:
        self.bootstrap, self.prefix, self.framing = bootstrap, topic_prefix, framing
        self._counts: dict[str, int] = {}

    def partitions(self, spec: topics.TopicSpec) -> int:
        count = self._counts.get(spec.suffix)
        if count is None:
            count = self._counts[spec.suffix] = partition_count(self.bootstrap,
                                                                spec.name(self.prefix))
        return count

    def records(self, spec: topics.TopicSpec, partition: int,
                start: int = 0) -> Iterator[tuple[int, bytes]]:
        if partition >= self.partitions(spec):
            return
        for _p, offset, value in read_records(self.bootstrap, spec.name(self.prefix),
                                              [partition], start):
            yield offset, value


def events(source: LogSource, spec: topics.TopicSpec, partition: int,
           start: int = 0) -> Iterator[tuple[int, Any]]:
    """(offset, decoded event) of one partition; a Decisions record as its per-prefix
    decisions, each at the record's offset (schemas.decisions)."""
    decode = source.framing.decode
    for offset, value in source.records(spec, partition, start):
        event = decode(value)
        if type(event) is Decisions:
            for decision in expand(event):
                yield offset, decision
        else:
            yield offset, event
