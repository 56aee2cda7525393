"""The archive's files: Avro Object Container Files of archived Kafka records.

One file holds records of one topic partition, in offset order. Its schema is an
``ixrs.archive.Record``: where the record was (topic, partition, offset), its key, its
event time, and the event itself as a union of the topic's event types, so that any Avro
tool reads the events as records. The record is written by hand rather than through
fastavro's writer, because the event's Avro body is already in the Kafka value: a value
written with the current schema is spliced into the union as it is, and archiving costs
no decode. ``framing`` (the bytes before the body in the value) and ``value`` (the value
whole, only when it is not ``framing`` + the event's body: an older writer schema, or a
value this build cannot decode) give back the Kafka value byte for byte; replay, explain
and the re-seeding of a broker read that.

Each block of the container holds one record. A reader thus finds the end of a record
(the block's size) without decoding its event, which is what keeps reading the value
cheap, and a file cut short by a crash is whole up to its last complete block. The price
is 18 to 20 bytes of block framing per record, and compression per record.

File names: ``<first event time>-<first offset>.avro`` (``20261127T020304Z-
00000000000000001234.avro``); the offset, not the time, orders the files of a partition.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ixrs.topics import TopicSpec
from schemas import catalog, codec

OCF_MAGIC = b"Obj\x01"
SYNC_SIZE = 16
SUFFIX = ".avro"
CODEC = "deflate"  # per record: a routes event of a socket read compresses well
RECORD_NAME = "ixrs.archive.Record"


def avro_long(n: int) -> bytes:
    """An Avro long (zig-zag varint); Avro ints are written the same way."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# The Avro long at ``pos`` and the position after it: the codec's own reader.
read_long = codec.read_avro_long


def avro_bytes(data: bytes) -> bytes:
    return avro_long(len(data)) + data


def _event_union(spec: TopicSpec) -> list[Any]:
    """The topic's event types, current schemas, each named type defined once (Avro
    forbids defining a name twice in one schema; later uses refer to it)."""
    library = catalog.read_raw()
    seen: set[str] = set()
    return ["null", *(catalog.expand(library[f"{catalog.NAMESPACE}.{cls.__name__}"], library,
                                     None, seen) for cls in spec.records)]


def record_schema(spec: TopicSpec) -> dict[str, Any]:
    return {
        "type": "record", "name": RECORD_NAME,
        "doc": "One Kafka record of an ixrs topic (docs/topics.md, 'The archive').",
        "fields": [
            {"name": "topic", "type": "string"},
            {"name": "partition", "type": "int"},
            {"name": "offset", "type": "long"},
            {"name": "key", "type": ["null", "bytes"]},
            {"name": "event_time_us", "type": "long",
             "doc": "header.event_time_us of the event (0: not readable)"},
            {"name": "framing", "type": "bytes",
             "doc": "the value's bytes before the event's Avro body: C3 01 and the writer "
                    "schema's fingerprint (single-object), or 00 and a registry schema id"},
            {"name": "value", "type": ["null", "bytes"],
             "doc": "the Kafka value whole, when it is not framing + the event's body"},
            {"name": "event", "type": _event_union(spec),
             "doc": "the event, by the current schema; null when not decodable here"},
        ],
    }


class RecordEncoder:
    """Archived records of one topic, as Avro binary (the body of one block)."""

    def __init__(self, spec: TopicSpec, topic: str, framing: Any) -> None:
        self.spec, self.framing = spec, framing
        self.schema_json = json.dumps(record_schema(spec))
        self._topic = avro_bytes(topic.encode())
        self._branch = {cls: i + 1 for i, cls in enumerate(spec.records)}
        # Values written with the current schema in single-object encoding: spliced.
        self._current = {codec.EVENT_TYPES[cls].info.fingerprint: avro_long(i)
                         for cls, i in self._branch.items()}

    def encode(self, partition: int, offset: int, key: bytes | None, value: bytes
               ) -> tuple[bytes, int]:
        """(the record's Avro binary, its event time)."""
        try:
            when = self.framing.header(value).event_time_us
        except Exception:  # not an event of ours: archived whole, with time 0
            when = 0
        head = self._topic + avro_long(partition) + avro_long(offset) + (
            b"\x00" if key is None else b"\x02" + avro_bytes(key)) + avro_long(when)
        branch = self._current.get(bytes(value[2:10])) if value[:2] == catalog.SINGLE_OBJECT_MAGIC \
            else None
        if branch is not None:
            return head + avro_bytes(value[:10]) + b"\x00" + branch + value[10:], when
        return head + self._resolved(value), when

    def _resolved(self, value: bytes) -> bytes:
        """framing, value, event for a value of an older schema or another framing: the
        event decoded and written with the current schema."""
        try:
            event = self.framing.decode(value)
            branch = self._branch[type(event)]
            body = codec.encode_body(event)
        except Exception:  # undecodable here: kept whole, for a later build to read
            return avro_bytes(b"") + b"\x02" + avro_bytes(value) + b"\x00"
        if value.endswith(body):
            return avro_bytes(value[:len(value) - len(body)]) + b"\x00" + avro_long(branch) + body
        return avro_bytes(b"") + b"\x02" + avro_bytes(value) + avro_long(branch) + body


@dataclass(frozen=True)
class Entry:
    """One archived Kafka record, as replay and re-seeding need it."""

    offset: int
    key: bytes | None
    value: bytes
    event_time_us: int


def decode_entry(data: bytes) -> Entry:
    """The Kafka record of one block's record, the event left undecoded."""
    size, pos = read_long(data, 0)
    _partition, pos = read_long(data, pos + size)
    offset, pos = read_long(data, pos)
    has_key, pos = read_long(data, pos)
    key = None
    if has_key:
        size, pos = read_long(data, pos)
        key, pos = bytes(data[pos:pos + size]), pos + size
    when, pos = read_long(data, pos)
    size, pos = read_long(data, pos)
    framing, pos = data[pos:pos + size], pos + size
    has_value, pos = read_long(data, pos)
    if has_value:
        size, pos = read_long(data, pos)
        return Entry(offset, key, bytes(data[pos:pos + size]), when)
    _branch, pos = read_long(data, pos)
    return Entry(offset, key, bytes(framing) + bytes(data[pos:]), when)


# -- container files ---------------------------------------------------------------------

def file_name(first_time_us: int, first_offset: int) -> str:
    stamp = datetime.fromtimestamp(max(first_time_us, 0) / 1e6, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{first_offset:020d}{SUFFIX}"


def first_offset(path: Path) -> int | None:
    """The first offset a file's name gives (None: not an archive file)."""
    if not path.name.endswith(SUFFIX):
        return None
    tail = path.name[:-len(SUFFIX)].rpartition("-")[2]
    return int(tail) if tail.isdigit() else None


def partition_files(directory: Path) -> list[tuple[int, Path]]:
    """(first offset, path) of a partition's files, in offset order."""
    if not directory.is_dir():
        return []
    found = [(first_offset(p), p) for p in directory.iterdir()]
    return sorted((o, p) for o, p in found if o is not None)


def header_bytes(schema_json: str, sync: bytes) -> bytes:
    meta = {"avro.schema": schema_json.encode(), "avro.codec": CODEC.encode()}
    body = b"".join(avro_bytes(k.encode()) + avro_bytes(v) for k, v in meta.items())
    return OCF_MAGIC + avro_long(len(meta)) + body + avro_long(0) + sync


def block_bytes(record: bytes, sync: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)  # raw deflate, as the Avro spec says
    data = packer.compress(record) + packer.flush()
    return b"\x02" + avro_long(len(data)) + data + sync


class ContainerWriter:
    """An open archive file: one block per record, appended and flushed by the caller."""

    def __init__(self, path: Path, schema_json: str) -> None:
        self.path = path
        self.sync = os.urandom(SYNC_SIZE)
        self._file: BinaryIO = path.open("xb")
        self._file.write(header_bytes(schema_json, self.sync))
        self.records = 0
        self.size = self._file.tell()

    def append(self, record: bytes) -> None:
        block = block_bytes(record, self.sync)
        self._file.write(block)
        self.records += 1
        self.size += len(block)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())  # a closed file is on disk: resuming trusts it
        self._file.close()


@dataclass(frozen=True)
class Header:
    codec: str
    sync: bytes
    end: int  # where the first block starts


def read_header(data: bytes | memoryview, path: Path) -> Header | None:
    """The container header, or None if the file is too short to hold one."""
    if len(data) < len(OCF_MAGIC) and OCF_MAGIC.startswith(bytes(data)):
        return None  # cut short while its header was written
    if bytes(data[:4]) != OCF_MAGIC:
        raise RuntimeError(f"{path}: not an Avro container file")  # never cut nor removed
    try:
        pos, meta = 4, {}
        while True:
            count, pos = read_long(data, pos)
            if count == 0:
                break
            if count < 0:
                count = -count
                _size, pos = read_long(data, pos)
            for _ in range(count):
                size, pos = read_long(data, pos)
                name = bytes(data[pos:pos + size]).decode()
                size, pos = read_long(data, pos + size)
                meta[name] = bytes(data[pos:pos + size])
                pos += size
        sync = bytes(data[pos:pos + SYNC_SIZE])
        if len(sync) < SYNC_SIZE:
            return None
        return Header(meta.get("avro.codec", b"null").decode(), sync, pos + SYNC_SIZE)
    except IndexError:
        return None


def blocks(data: bytes | memoryview, header: Header) -> Iterator[tuple[bytes, int]]:
    """(one block's records, undecompressed; the position after the block) of the whole
    blocks of a file; a block cut short (a crash while writing it) ends the file."""
    pos, size_all = header.end, len(data)
    while pos < size_all:
        try:
            _count, at = read_long(data, pos)
            size, at = read_long(data, at)
        except IndexError:
            return
        end = at + size + SYNC_SIZE
        if end > size_all or bytes(data[at + size:end]) != header.sync:
            return
        raw = bytes(data[at:at + size])
        yield (zlib.decompress(raw, -15) if header.codec == "deflate" else raw), end
        pos = end


def read_file(path: Path) -> tuple[list[Entry], int]:
    """The whole records of a file, and the size of the file's whole part (0: not even a
    header)."""
    data = path.read_bytes()
    header = read_header(data, path)
    if header is None:
        return [], 0
    entries, end = [], header.end
    for record, after in blocks(data, header):
        entries.append(decode_entry(record))
        end = after
    return entries, end
