"""`ixrs archive`: every topic copied into Avro container files, resuming where it stopped.

Layout: ``OUT/<topic>/<partition>/<first event time>-<first offset>.avro``
(:mod:`replay.archive_format`). A partition's file is closed and the next one begun when it
reaches ``max_bytes`` or ``max_records``, when an event of a later UTC hour than the file's
first comes, or when it has been open an hour; so no file spans more than about an hour
of log, and a file an analyst opens is soon complete.

Resuming: the last archived offset of each partition is read from its newest file, whose
half-written last block (a crash while writing) is cut off; copying goes on from the next
offset into a new file. No gap, no duplicate: records are written in offset order and
the archive is its own bookmark.

``CLEAN`` is present in OUT only while no archiver writes to it and the last one ended
cleanly (it read every partition to its end after being asked to stop): the durable
embedded mode needs to know whether the archive holds everything the workers saw.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, TopicPartition

from ixrs import topics
from ixrs.eventlog import Framing, consumer_config, partition_count
from replay.archive_format import (
    ContainerWriter,
    RecordEncoder,
    file_name,
    partition_files,
    read_file,
)

CLEAN = "CLEAN"
LOCK = ".lock"
HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * 1024 * 1024
    max_records: int = 1_000_000
    max_open_s: float = 3600.0


@dataclass
class Counts:
    records: int = 0
    files: int = 0
    resumed: dict[str, int] = field(default_factory=dict)  # "topic/partition" -> next offset


def resume_offset(directory: Path) -> int:
    """The next offset to archive in a partition directory: after its last whole record.
    A last file cut short is truncated to its whole blocks; one with no whole record is
    removed (it was being begun)."""
    for _first, path in reversed(partition_files(directory)):
        entries, whole = read_file(path)
        if not entries:
            path.unlink()
            continue
        if path.stat().st_size != whole:
            with path.open("r+b") as f:
                f.truncate(whole)
        return entries[-1].offset + 1
    return 0


class PartitionArchive:
    """The open file of one topic partition, rotated by the limits."""

    def __init__(self, directory: Path, encoder: RecordEncoder, partition: int,
                 limits: Limits, counts: Counts, clock: Callable[[], float]) -> None:
        self.directory, self.encoder, self.partition = directory, encoder, partition
        self.limits, self.counts, self.clock = limits, counts, clock
        directory.mkdir(parents=True, exist_ok=True)
        self.next_offset = resume_offset(directory)
        self._file: ContainerWriter | None = None
        self._hour = 0
        self._opened = 0.0

    def write(self, offset: int, key: bytes | None, value: bytes) -> None:
        if offset < self.next_offset:
            return  # already archived (a consumer re-delivering after a seek)
        record, when = self.encoder.encode(self.partition, offset, key, value)
        if self._file is not None and (when // HOUR_US > self._hour or self._full()):
            self.close()
        if self._file is None:
            self._file = ContainerWriter(self.directory / file_name(when, offset),
                                         self.encoder.schema_json)
            self._hour, self._opened = when // HOUR_US, self.clock()
            self.counts.files += 1
        self._file.append(record)
        self.next_offset = offset + 1
        self.counts.records += 1

    def _full(self) -> bool:
        f = self._file
        assert f is not None
        return (f.size >= self.limits.max_bytes or f.records >= self.limits.max_records
                or self.clock() - self._opened >= self.limits.max_open_s)

    def tick(self) -> None:
        """Flush what was written; close a file open too long even when nothing comes."""
        if self._file is not None:
            if self.clock() - self._opened >= self.limits.max_open_s:
                self.close()
            else:
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Archiver:
    """Copies every ixrs topic of one deployment (topic prefix) into ``out``."""

    def __init__(self, bootstrap: str, prefix: str, framing: Framing, out: Path,
                 limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.bootstrap, self.out = bootstrap, out
        out.mkdir(parents=True, exist_ok=True)
        # Two archivers appending to one directory would interleave files: one at a time.
        self._lock = (out / LOCK).open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RuntimeError(f"{out}: another archiver is writing to it") from None
        self.counts = Counts()
        self.parts: dict[tuple[str, int], PartitionArchive] = {}
        limits = limits or Limits()
        for spec in topics.ALL:
            name = spec.name(prefix)
            count = partition_count(bootstrap, name)
            encoder = RecordEncoder(spec, name, framing)
            for p in range(count):
                part = PartitionArchive(out / name / str(p), encoder, p, limits, self.counts,
                                        clock)
                self.parts[(name, p)] = part
                self.counts.resumed[f"{name}/{p}"] = part.next_offset

    def run(self, follow: bool, stop: threading.Event) -> Counts:
        """Copy to the end of every partition; with ``follow``, keep copying until ``stop``
        is set, then copy to the end once more (what was written until then) and close."""
        (self.out / CLEAN).unlink(missing_ok=True)
        try:
            at_end = self._copy(until_end=not follow, stop=stop)
            if follow:  # a fresh reader learns the ends from its first fetches
                at_end = self._copy(until_end=True, stop=threading.Event())
            for part in self.parts.values():
                part.close()
            if at_end:
                (self.out / CLEAN).write_text("the last archiver stopped at the end of the log\n")
        finally:
            for part in self.parts.values():
                part.close()
            self._lock.close()  # and with it the lock
        return self.counts

    def _copy(self, until_end: bool, stop: threading.Event) -> bool:
        """Whether every partition was read to its end."""
        if not self.parts:
            return True
        consumer = Consumer(consumer_config(self.bootstrap, **{
            "fetch.wait.max.ms": 100, "queued.max.messages.kbytes": 262144}))
        try:
            consumer.assign([TopicPartition(name, p, part.next_offset)
                             for (name, p), part in self.parts.items()])
            open_parts = set(self.parts)
            while not stop.is_set() and (open_parts or not until_end):
                batch = consumer.consume(10_000, 0.2)
                for msg in batch:
                    err = msg.error()
                    where = (msg.topic(), msg.partition())
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            open_parts.discard(where)
                            continue
                        raise RuntimeError(f"reading {where[0]}[{where[1]}]: {err}")
                    self.parts[where].write(msg.offset(), msg.key(), msg.value())
                for part in self.parts.values():
                    part.tick()
            return not open_parts
        finally:
            consumer.close()
