"""Data sets in the log: publishing a version, and reading one back by version.

A new version is written as chunks plus a manifest to the datasets topic, then a
``DataSetMarker`` goes into every routes partition, so that each partition knows
exactly where the new version comes into force (issue 4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING

from ixrs import topics
from ixrs.config.deploy import Deploy
from ixrs.eventlog import EventProducer, Framing, Stamper, framing_for, read_partitions
from processors.datasets import DataSet, DataSetError, from_events, to_events
from schemas.events import DataSetChunk, DataSetMarker, DataSetVersion


def publish(
    bootstrap: str, deploy: Deploy, datasets: Iterable[DataSet], config_version: str = ""
) -> list[DataSetVersion]:
    framing = framing_for(deploy.schema_registry)
    producer = EventProducer(bootstrap, framing, **topics.LARGE_RECORD_PRODUCER)
    stamper = Stamper("datasets", config_version)
    prefix = deploy.topic_prefix
    manifests = []
    for data in datasets:
        chunks, manifest = to_events(data, stamper.header())
        key = f"{manifest.kind}/{manifest.name}"
        for chunk in chunks:
            producer.produce(topics.DATASETS.name(prefix), chunk, key=key, partition=0)
        producer.produce(topics.DATASETS.name(prefix), manifest, key=key, partition=0)
        manifests.append(manifest)
    producer.flush()  # the whole version is in the log before any partition is told of it
    for manifest in manifests:
        marker = DataSetMarker(stamper.header(), manifest.kind, manifest.name, manifest.version)
        for partition in range(deploy.partitions):
            producer.produce(
                topics.ROUTES.name(prefix), marker, key=manifest.name, partition=partition
            )
    producer.flush()
    return manifests


# start offset -> (offset, event) of the datasets topic from there to its end
DataSetLog = Callable[[int], Iterable[tuple[int, Any]]]


class DataSetReader:
    """Loads data-set versions from the datasets topic, reading only what is new.

    ``read`` reads the topic from another place than Kafka (replay: an archive)."""

    def __init__(self, bootstrap: str, topic_prefix: str, framing: Framing,
                 read: DataSetLog | None = None) -> None:
        self.bootstrap, self.framing = bootstrap, framing
        self.topic = topics.DATASETS.name(topic_prefix)
        self._read = read or self._from_kafka
        self._next = OFFSET_BEGINNING
        self._chunks: dict[tuple[str, str, str], list[DataSetChunk]] = {}
        self._manifests: dict[tuple[str, str, str], DataSetVersion] = {}
        self._loaded: dict[tuple[str, str, str], DataSet] = {}

    def _from_kafka(self, start: int) -> Iterable[tuple[int, Any]]:
        for _p, offset, event in read_partitions(self.bootstrap, self.topic, [0], self.framing,
                                                 start):
            yield offset, event

    def _catch_up(self) -> None:
        for offset, event in self._read(self._next):
            self._next = offset + 1
            key = (event.kind, event.name, event.version)
            if isinstance(event, DataSetChunk):
                self._chunks.setdefault(key, []).append(event)
            elif isinstance(event, DataSetVersion):
                self._manifests[key] = event

    def latest(self, kind: str) -> dict[str, DataSet]:
        """The newest version of every data set of ``kind``, by name."""
        self._catch_up()
        newest: dict[str, tuple[str, str, str]] = {}
        for key in self._manifests:  # in log order: later versions replace earlier ones
            if key[0] == kind:
                newest[key[1]] = key
        return {name: self.load(*key) for name, key in newest.items()}

    def load(self, kind: str, name: str, version: str) -> DataSet:
        key = (kind, name, version)
        if key in self._loaded:
            return self._loaded[key]
        if key not in self._manifests:
            self._catch_up()
        manifest = self._manifests.get(key)
        if manifest is None:
            raise DataSetError(f"{kind} {name} {version[:12]}: no manifest in {self.topic}")
        data = from_events(manifest, self._chunks.pop(key, []))
        self._loaded[key] = data
        return data
