"""The durable embedded mode: the embedded broker's log kept in an archive, and given back.

The embedded broker keeps its log in memory. `ixrs run` without --bootstrap therefore
archives every topic into ``STATE_DIR/archive`` while it runs (an ``ixrs archive --follow``
role, stopped after the other roles so that it copies what they wrote last), and a new
`ixrs run` re-seeds its new broker from that archive before any role starts: the same
topics and partitions, every record produced back in offset order, so that each lands at
its old offset. The broker topic comes back too, with it the broker incarnation, and the
workers' saved state (``derived/``, :mod:`ixrs.incarnation`) stays valid: it names
offsets of the same log.

Unless the archive holds everything the workers may have seen, that state must go: a
worker whose store is ahead of the re-seeded log would skip the new events at the offsets
it believes done. The archiver leaves ``CLEAN`` only when it stopped after reading every
partition to its end, which `ixrs run` asks of it after the other roles stopped; without
it (a killed run), ``derived/`` is discarded and the workers rebuild from the log.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Producer

from ixrs import admin, topics
from ixrs.config.deploy import Deploy
from ixrs.errors import UsageError
from ixrs.eventlog import SingleObjectFraming, framing_for, producer_config
from ixrs.incarnation import DERIVED_DIR, read_incarnation
from replay.archive import ArchiveSource
from replay.archive_writer import CLEAN

ARCHIVE_DIR = "archive"


def archive_dir(state_dir: Path) -> Path:
    return state_dir / ARCHIVE_DIR


@dataclass(frozen=True)
class Restored:
    records: int
    discarded_derived: bool  # the archive might lack what the saved state had seen


def restore(bootstrap: str, deploy: Deploy, state_dir: Path) -> Restored:
    """Re-seed a new embedded broker from the state directory's archive, if there is one."""
    directory = archive_dir(state_dir)
    if not (directory / topics.ROUTES.name(deploy.topic_prefix)).is_dir():
        return Restored(0, False)
    records = reseed(bootstrap, deploy, directory)
    discarded = False
    if not (directory / CLEAN).exists() and (state_dir / DERIVED_DIR).exists():
        shutil.rmtree(state_dir / DERIVED_DIR)
        discarded = True
    return Restored(records, discarded)


def reseed(bootstrap: str, deploy: Deploy, directory: Path) -> int:
    """Produce every archived record back into an empty broker; how many. The offsets must
    come out the same, so each partition must be archived whole from offset 0."""
    prefix = deploy.topic_prefix
    source = ArchiveSource(directory, prefix, framing_for(deploy.schema_registry))
    counts = {spec: source.partitions(spec) for spec in topics.ALL}
    for spec, count in counts.items():
        if count and count != spec.partitions(deploy.partitions):
            raise UsageError(f"{directory / spec.name(prefix)}: {count} partitions archived, "
                             f"the deployment asks for {spec.partitions(deploy.partitions)}")
    admin.ensure_topics(bootstrap, prefix, deploy.partitions)
    if read_incarnation(bootstrap, prefix, SingleObjectFraming()) is not None:
        raise RuntimeError(f"cannot re-seed {bootstrap} from {directory}: the broker has a "
                           "log already")
    errors: list[str] = []

    def delivered(err: KafkaError | None, msg: Any, offset: int) -> None:
        if err is not None:
            errors.append(f"{msg.topic()}[{msg.partition()}] offset {offset}: {err}")
        elif msg.offset() != offset:
            errors.append(f"{msg.topic()}[{msg.partition()}]: archived offset {offset} "
                          f"landed at {msg.offset()}")

    # Two producers (each costs a start-up): whole configurations need the large-record
    # settings, which would compress every other record for nothing.
    settings = {"linger.ms": 20, "batch.size": 1_000_000,
                "queue.buffering.max.kbytes": 262_144}
    plain = Producer(producer_config(bootstrap, **settings))
    large = Producer(producer_config(bootstrap, **settings, **topics.LARGE_RECORD_PRODUCER))
    total = 0
    for spec, count in counts.items():
        producer = large if spec.large_records else plain
        name = spec.name(prefix)
        for partition in range(count):
            expected = 0
            for entry in source.entries(spec, partition):
                if entry.offset != expected:
                    raise RuntimeError(f"cannot re-seed {name}[{partition}] from {directory}: "
                                       f"offset {entry.offset} where {expected} was expected")
                expected += 1
                _produce(producer, name, partition, entry.key, entry.value,
                         lambda err, msg, o=entry.offset: delivered(err, msg, o))
            total += expected
    for producer in (plain, large):
        if producer.flush(300):
            raise RuntimeError(f"re-seeding from {directory}: records not acknowledged in 300 s")
    if errors:
        raise RuntimeError(f"re-seeding from {directory}: {errors[0]} ({len(errors)} errors)")
    return total


def _produce(producer: Producer, topic: str, partition: int, key: bytes | None,
             value: bytes, on_delivery: Any) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key, partition=partition,
                             on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.1)  # the local queue is full: let deliveries drain
