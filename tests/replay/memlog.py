"""A log held in memory, read through replay's LogSource protocol: the export code runs
as against Kafka (records Avro-encoded, decoded by the same framing), without a broker."""

from __future__ import annotations

from collections.abc import Iterator

from ixrs import topics
from ixrs.config import RouteServerConfig
from ixrs.eventlog import SingleObjectFraming, Stamper
from schemas.events import ConfigVersion


class MemorySource:
    prefix = "mem."

    def __init__(self, partitions: int, config: RouteServerConfig) -> None:
        self.framing = SingleObjectFraming()
        self.count = partitions
        self.log: dict[tuple[str, int], list[bytes]] = {}
        self.add(topics.CONFIG, 0, ConfigVersion(Stamper("test").header(), config.version,
                                                 config.to_json()))

    def add(self, spec: topics.TopicSpec, partition: int, event: object) -> None:
        value = self.framing.encode(spec.name(self.prefix), event)
        self.log.setdefault((spec.suffix, partition), []).append(value)

    def partitions(self, spec: topics.TopicSpec) -> int:
        return spec.partitions(self.count)

    def records(self, spec: topics.TopicSpec, partition: int,
                start: int = 0) -> Iterator[tuple[int, bytes]]:
        values = self.log.get((spec.suffix, partition), [])
        for offset in range(start, len(values)):
            yield offset, values[offset]
