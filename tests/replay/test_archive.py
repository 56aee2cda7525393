"""`ixrs archive` and the archive as a log source, against the real embedded broker: the
archive gives back every record byte for byte at its offset, other Avro readers see the
events as records, and archiving resumes without gaps or duplicates, crash or not."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import fastavro
import pytest

from ixrs import admin, topics
from ixrs.config import load_config
from ixrs.config.deploy import Deploy
from ixrs.eventlog import EventProducer, SingleObjectFraming
from ixrs.prepare import prepare_log, publish_config
from replay.archive import ArchiveSource
from replay.archive_format import SUFFIX, partition_files
from replay.archive_writer import CLEAN, Archiver, Limits
from replay.source import KafkaSource
from schemas import catalog, codec
from schemas.events import SessionChange
from tests.helpers import wait_for
from tests.processors.pipeline import CLIENTS, GENERAL, as_reads, produce, route_stream

PARTITIONS = 3
FRAMING = SingleObjectFraming()


def _log(bootstrap: str, prefix: str, tmp: Path, updates: int = 800, seed: int = 0) -> None:
    deploy = Deploy(topic_prefix=prefix, partitions=PARTITIONS)
    prepare_log(bootstrap, deploy, tmp / "state")
    publish_config(bootstrap, deploy, load_config(str(GENERAL), str(CLIENTS)),
                   [str(GENERAL), str(CLIENTS)])
    produce(bootstrap, prefix, as_reads(route_stream(updates, PARTITIONS, seed), 5))


def _everything(source: Any) -> dict[tuple[str, int], list[tuple[int, bytes]]]:
    return {(spec.suffix, p): list(source.records(spec, p))
            for spec in topics.ALL for p in range(source.partitions(spec))}


def _archive(bootstrap: str, prefix: str, out: Path, limits: Limits | None = None) -> Archiver:
    archiver = Archiver(bootstrap, prefix, FRAMING, out, limits)
    archiver.run(follow=False, stop=threading.Event())
    return archiver


def test_the_archive_gives_back_every_record_at_its_offset(broker, topic_prefix: str,
                                                           tmp_path: Path) -> None:
    _log(broker.bootstrap, topic_prefix, tmp_path)
    out = tmp_path / "archive"
    archiver = _archive(broker.bootstrap, topic_prefix, out, Limits(max_records=25))
    kafka = _everything(KafkaSource(broker.bootstrap, topic_prefix, FRAMING))
    archived = _everything(ArchiveSource(out, topic_prefix, FRAMING))
    assert archived == kafka
    assert sum(len(v) for v in kafka.values()) == archiver.counts.records > 100
    assert (out / CLEAN).exists()
    # rotated by record count, each file named by its first offset
    files = partition_files(out / topics.ROUTES.name(topic_prefix) / "0")
    assert len(files) > 1
    assert [first for first, _p in files] == list(range(0, 25 * len(files), 25))
    # a start offset inside a later file
    source = ArchiveSource(out, topic_prefix, FRAMING)
    assert list(source.records(topics.ROUTES, 0, 30)) == kafka[("routes", 0)][30:]


def test_other_avro_readers_see_the_events_as_records(broker, topic_prefix: str,
                                                      tmp_path: Path) -> None:
    _log(broker.bootstrap, topic_prefix, tmp_path, updates=100)
    out = tmp_path / "archive"
    _archive(broker.bootstrap, topic_prefix, out)
    kafka = _everything(KafkaSource(broker.bootstrap, topic_prefix, FRAMING))
    seen = 0
    for path in sorted(out.glob(f"*/*/*{SUFFIX}")):
        with path.open("rb") as f:
            for record in fastavro.reader(f):  # fastavro alone, with the file's own schema
                topic, partition, offset = record["topic"], record["partition"], record["offset"]
                value = dict(kafka[(topic[len(topic_prefix):], partition)])[offset]
                event = codec.decode(value)
                assert codec.EVENT_TYPES[type(event)].frm(record["event"]) == event, offset
                assert record["event_time_us"] == event.header.event_time_us
                assert record["framing"] == value[:10]
                seen += 1
    assert seen == sum(len(v) for v in kafka.values())


def _older_schema_value(event: Any) -> bytes | None:
    """The event in single-object encoding by the first released schema of its type that
    differs from the current one (None: its schema never changed)."""
    et = codec.event_type(event)
    for version in catalog.history_versions():
        info = catalog.released(version).get(et.info.name)
        if info is not None and info.fingerprint != et.info.fingerprint:
            body = io.BytesIO()
            fastavro.schemaless_writer(body, fastavro.parse_schema(info.expanded), et.to(event))
            return catalog.SINGLE_OBJECT_MAGIC + info.fingerprint + body.getvalue()
    return None


def test_older_schemas_and_foreign_bytes_are_kept_byte_for_byte(broker, topic_prefix: str,
                                                                tmp_path: Path) -> None:
    admin.ensure_topics(broker.bootstrap, topic_prefix, PARTITIONS)
    old = _older_schema_value(next(e for _p, e in route_stream(20, PARTITIONS)))
    assert old is not None, "ReceivedRoutes has an older released schema"
    producer = EventProducer(broker.bootstrap, FRAMING)
    raw = producer._producer  # values that the framing did not write
    sessions = topics.SESSIONS.name(topic_prefix)
    routes = topics.ROUTES.name(topic_prefix)
    raw.produce(routes, value=old, key=b"192.0.2.2", partition=0)
    raw.produce(sessions, value=b"\x00not an event", partition=0)
    raw.produce(sessions, value=codec.encode(_down()), key=None, partition=0)
    producer.flush()
    out = tmp_path / "archive"
    _archive(broker.bootstrap, topic_prefix, out)
    source = ArchiveSource(out, topic_prefix, FRAMING)
    assert list(source.records(topics.ROUTES, 0)) == [(0, old)]
    assert [v for _o, v in source.records(topics.SESSIONS, 0)] == [
        b"\x00not an event", codec.encode(_down())]
    [entry] = source.entries(topics.ROUTES, 0)
    assert entry.key == b"192.0.2.2"
    records = [r for path in sorted(out.glob(f"{sessions}/0/*{SUFFIX}"))
               for r in fastavro.reader(path.open("rb"))]
    assert [r["event"] is None for r in records] == [True, False]
    [old_record] = fastavro.reader((out / routes / "0").glob(f"*{SUFFIX}").__next__().open("rb"))
    assert old_record["value"] == old  # the older body, whole
    decoded = codec.decode(old)
    assert codec.EVENT_TYPES[type(decoded)].frm(old_record["event"]) == decoded


def _down() -> SessionChange:
    from schemas.events import Epoch, EventHeader, Session, SessionState

    session = Session("speaker", "192.0.2.2", 20002, Epoch("i", 1))
    return SessionChange(EventHeader("speaker", 0, 1_700_000_000_000_000, ""), session,
                         SessionState.ESTABLISHED, SessionState.IDLE, "test")


def test_resuming_after_a_crash_leaves_no_gap_and_no_duplicate(broker, topic_prefix: str,
                                                                tmp_path: Path) -> None:
    _log(broker.bootstrap, topic_prefix, tmp_path, updates=200)
    out = tmp_path / "archive"
    _archive(broker.bootstrap, topic_prefix, out)
    # A crash while writing: the newest file of a partition ends in half a block, and an
    # empty file was being begun in another.
    routes = out / topics.ROUTES.name(topic_prefix)
    [(_first, last)] = partition_files(routes / "1")[-1:]
    whole = last.stat().st_size
    data = last.read_bytes()
    last.write_bytes(data + data[-40:-5])
    (routes / "2" / f"20991231T000000Z-{10**9:020d}{SUFFIX}").write_bytes(b"Obj")
    produce(broker.bootstrap, topic_prefix, as_reads(route_stream(200, PARTITIONS, 1), 40))
    again = _archive(broker.bootstrap, topic_prefix, out)
    assert last.stat().st_size == whole, "the half block is cut off"
    assert again.counts.resumed[f"{routes.name}/1"] > 0
    kafka = _everything(KafkaSource(broker.bootstrap, topic_prefix, FRAMING))
    assert _everything(ArchiveSource(out, topic_prefix, FRAMING)) == kafka


def test_follow_copies_new_records_until_stopped(broker, topic_prefix: str,
                                                  tmp_path: Path) -> None:
    _log(broker.bootstrap, topic_prefix, tmp_path, updates=100)
    out = tmp_path / "archive"
    archiver = Archiver(broker.bootstrap, topic_prefix, FRAMING, out)
    stop = threading.Event()
    thread = threading.Thread(target=archiver.run, args=(True, stop))
    thread.start()
    try:
        source = ArchiveSource(out, topic_prefix, FRAMING)
        wait_for(lambda: len(_everything(source)[("routes", 0)]) > 0, 30, "the first copy")
        assert not (out / CLEAN).exists(), "not clean while an archiver writes"
        produce(broker.bootstrap, topic_prefix, as_reads(route_stream(100, PARTITIONS, 2), 40))
        kafka = _everything(KafkaSource(broker.bootstrap, topic_prefix, FRAMING))
        wait_for(lambda: _everything(source) == kafka, 30, "the new records in the archive")
        # written just before the stop: the final copy to the end takes them too
        produce(broker.bootstrap, topic_prefix, as_reads(route_stream(50, PARTITIONS, 3), 40))
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert (out / CLEAN).exists()
    kafka = _everything(KafkaSource(broker.bootstrap, topic_prefix, FRAMING))
    assert _everything(ArchiveSource(out, topic_prefix, FRAMING)) == kafka


def test_an_archive_dir_without_the_topics_is_refused(tmp_path: Path) -> None:
    from ixrs.errors import UsageError

    with pytest.raises(UsageError, match=r"no ixrs\.routes"):
        ArchiveSource(tmp_path, "ixrs.", FRAMING)
