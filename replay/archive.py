"""Replay, explain, verify and MRT export from an archive (`--archive DIR`) instead of Kafka.

:class:`ArchiveSource` is a :class:`~replay.source.LogSource` over the files
``ixrs archive`` writes (:mod:`replay.archive_writer`): the records of a partition, in
offset order, as the Kafka values they were, byte for byte. Everything that reads a
source therefore gives the same answers from the archive as from the topics it copied.
Files are opened per read and hold no handle between reads, so a source can be forked
(replay's parallel partitions) and can read an archive that is still being written (a
block not yet whole is not read).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ixrs import topics
from ixrs.errors import UsageError
from ixrs.eventlog import Framing
from replay.archive_format import Entry, blocks, decode_entry, partition_files, read_header


class ArchiveSource:
    """The archived topics of one deployment (one topic prefix) under ``directory``."""

    def __init__(self, directory: Path, topic_prefix: str, framing: Framing) -> None:
        self.directory, self.prefix, self.framing = directory, topic_prefix, framing
        if not directory.is_dir():
            raise UsageError(f"--archive: {directory}: not a directory")
        if not (directory / topics.ROUTES.name(topic_prefix)).is_dir():
            raise UsageError(f"--archive: {directory}: no {topics.ROUTES.name(topic_prefix)} "
                             "in it (an `ixrs archive --out` directory; --topic-prefix?)")

    def partitions(self, spec: topics.TopicSpec) -> int:
        topic = self.directory / spec.name(self.prefix)
        if not topic.is_dir():
            return 0
        return len([p for p in topic.iterdir() if p.name.isdigit()])

    def entries(self, spec: topics.TopicSpec, partition: int, start: int = 0
                ) -> Iterator[Entry]:
        """Every archived record of a partition from offset ``start``, in offset order."""
        files = partition_files(self.directory / spec.name(self.prefix) / str(partition))
        # The file holding ``start``: the last one beginning at or before it.
        first = max([i for i, (offset, _p) in enumerate(files) if offset <= start], default=0)
        for _offset, path in files[first:]:
            data = path.read_bytes()
            header = read_header(data, path)
            if header is None:
                continue  # being begun by a running archiver
            for record, _end in blocks(data, header):
                entry = decode_entry(record)
                if entry.offset >= start:
                    yield entry

    def records(self, spec: topics.TopicSpec, partition: int,
                start: int = 0) -> Iterator[tuple[int, bytes]]:
        for entry in self.entries(spec, partition, start):
            yield entry.offset, entry.value
