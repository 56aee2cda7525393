"""What every role does against a broker before its real work: topics, the
broker incarnation, the local state directory, and the configuration event."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ixrs import admin, topics
from ixrs.config import RouteServerConfig
from ixrs.config.deploy import Deploy
from ixrs.eventlog import EventProducer, Stamper, framing_for, read_partition
from ixrs.incarnation import Reconciled, ensure_incarnation, reconcile_state_dir
from schemas.events import ConfigVersion, DataSetMarker, SourceFile


def prepare_log(bootstrap: str, deploy: Deploy, state_dir: Path) -> Reconciled:
    admin.ensure_topics(bootstrap, deploy.topic_prefix, deploy.partitions)
    framing = framing_for(deploy.schema_registry)
    incarnation = ensure_incarnation(bootstrap, deploy.topic_prefix, framing)
    return reconcile_state_dir(state_dir, incarnation)


def latest_config_version(bootstrap: str, deploy: Deploy) -> str | None:
    framing = framing_for(deploy.schema_registry)
    topic = topics.CONFIG.name(deploy.topic_prefix)
    latest = None
    for _offset, event in read_partition(bootstrap, topic, 0, framing):
        latest = event.version
    return latest


def publish_config(bootstrap: str, deploy: Deploy, config: RouteServerConfig,
                   sources: Sequence[str]) -> bool:
    """Publish the configuration unless it is already the one in force.

    The version goes to the config topic, then a marker into every routes partition, so
    that each partition knows exactly where the version comes into force: the workers
    judge and decide again from that point, and replay meets the change at the same place.
    Two roles publishing the same version at once write two markers; the second one
    changes nothing."""
    if latest_config_version(bootstrap, deploy) == config.version:
        return False
    files = tuple(
        SourceFile(path, hashlib.sha256(Path(path).read_bytes()).hexdigest()) for path in sources
    )
    stamper = Stamper("config", config.version)
    event = ConfigVersion(stamper.header(), config.version, config.to_json(), files)
    producer = EventProducer(bootstrap, framing_for(deploy.schema_registry),
                             **topics.LARGE_RECORD_PRODUCER)
    producer.produce(topics.CONFIG.name(deploy.topic_prefix), event, key=config.version,
                     partition=0)
    producer.flush()  # the version is in the log before any partition is told of it
    kind = topics.CONFIG_MARKER
    marker = DataSetMarker(stamper.header(), kind, kind, config.version)
    for partition in range(deploy.partitions):
        producer.produce(topics.ROUTES.name(deploy.topic_prefix), marker, key=kind,
                         partition=partition)
    producer.flush()
    return True


class ConfigReader:
    """Configuration versions by version string, from the config topic (or, for replay
    from an archive, from ``read``: start offset -> (offset, event) to the topic's end)."""

    def __init__(self, bootstrap: str, deploy: Deploy,
                 read: Callable[[int], Iterable[tuple[int, Any]]] | None = None) -> None:
        self.bootstrap, self.framing = bootstrap, framing_for(deploy.schema_registry)
        self.topic = topics.CONFIG.name(deploy.topic_prefix)
        self._read = read or (lambda start: read_partition(self.bootstrap, self.topic, 0,
                                                           self.framing, start))
        self._next = 0
        self._texts: dict[str, str] = {}
        self._loaded: dict[str, RouteServerConfig] = {}

    def load(self, version: str) -> RouteServerConfig:
        if version in self._loaded:
            return self._loaded[version]
        if version not in self._texts:
            for offset, event in self._read(self._next):
                self._next = offset + 1
                self._texts[event.version] = event.config_json
        text = self._texts.pop(version, None)
        if text is None:
            raise LookupError(f"configuration {version[:12]} is not in {self.topic}")
        config = self._loaded[version] = RouteServerConfig.from_json(text)
        return config
