"""What every role does against a broker before its real work: topics, the
broker incarnation, the local state directory, and the configuration event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from ixrs import admin, topics
from ixrs.config import RouteServerConfig
from ixrs.config.deploy import Deploy
from ixrs.eventlog import EventProducer, Stamper, framing_for, read_partition
from ixrs.incarnation import Reconciled, ensure_incarnation, reconcile_state_dir
from schemas.events import ConfigVersion, SourceFile


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
    """Publish the configuration unless it is already the one in force."""
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
    producer.flush()
    return True
