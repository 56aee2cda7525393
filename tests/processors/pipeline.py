"""Workers as real processes on the embedded broker, fed a synthetic stream of route updates
straight into the routes topic (the speaker's part of the log), and the answers an
uninterrupted run gives, computed in-process with the same code."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from ixrs import topics
from ixrs.config import load_config
from ixrs.config.deploy import Deploy
from ixrs.eventlog import (
    EventProducer,
    SingleObjectFraming,
    Stamper,
    consumer_config,
    read_partitions,
)
from ixrs.prepare import ConfigReader
from processors.export import ExportPolicy
from processors.partition import PartitionProcessor, Policies
from processors.validate import ImportPolicy
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.decisions import per_prefix
from schemas.events import (
    Epoch,
    EventHeader,
    Position,
    ReceivedRoutes,
    ReceivedUpdates,
    Session,
    UpdatePart,
)
from tests.helpers import kill_quietly, wait_for

ROOT = Path(__file__).resolve().parents[2]
GENERAL = ROOT / "examples" / "general.yml"
CLIENTS = ROOT / "examples" / "clients.yml"
PEERS = [("192.0.2.2", 20002), ("192.0.2.3", 20003), ("192.0.2.4", 196615)]
DOWNSTREAM = [*range(21000, 21200), *range(196700, 196800)]  # public-looking, not clients
H = EventHeader("test-speaker", 0, 0, "")


def route_stream(updates: int, partitions: int, seed: int = 0, per_event: int = 5
                 ) -> list[tuple[int, ReceivedRoutes]]:
    """(partition, event) for ``updates`` prefix updates from three clients: announcements
    from a pool of realistic attribute sets (so that best paths move), and withdrawals.
    Each event carries prefixes of one partition only, as the speaker writes them."""
    rng = random.Random(seed)
    prefixes = [f"{185 + n // 65536}.{(n // 256) % 256}.{n % 256}.0/24"
                for n in range(max(updates // 4, per_event * partitions * 4))]
    by_partition: dict[int, list[str]] = {}
    for prefix in prefixes:
        by_partition.setdefault(topics.partition_for(prefix, partitions), []).append(prefix)
    pools = {address: [_attributes(rng, address, asn) for _ in range(200)]
             for address, asn in PEERS}
    sessions = {address: Session("test-speaker", address, asn, Epoch("i1", 1), address)
                for address, asn in PEERS}
    out: list[tuple[int, ReceivedRoutes]] = []
    for seq in range(updates // per_event):
        address, _asn = rng.choice(PEERS)
        partition = rng.randrange(partitions)
        chosen = tuple(rng.sample(by_partition[partition], per_event))
        if rng.random() < 0.15:
            event = ReceivedRoutes(H, sessions[address], seq, None, (), chosen)
        else:
            event = ReceivedRoutes(H, sessions[address], seq, rng.choice(pools[address]), chosen)
        out.append((partition, event))
    return out


def table_stream(updates: int, partitions: int, seed: int = 0, per_event: int = 10
                 ) -> list[tuple[int, ReceivedRoutes]]:
    """(partition, event) for ``updates`` prefix updates shaped like full tables: each of the
    three clients announces every prefix once; a prefix's path from a client depends on its
    origin AS (about 14 prefixes per origin, as in the real Internet), so the prefixes of
    one origin share their attribute sets, and each UPDATE packs prefixes of one attribute
    set, as BIRD sends them."""
    rng = random.Random(seed)
    count = updates // len(PEERS)
    origins = [*range(30000, 30000 + max(1, count // 14))]
    prefixes = [f"{185 + n // 65536}.{(n // 256) % 256}.{n % 256}.0/24" for n in range(count)]
    origin_of = {p: rng.choice(origins) for p in prefixes}
    out: list[tuple[int, ReceivedRoutes]] = []
    seq = 0
    for address, asn in PEERS:
        session = Session("test-speaker", address, asn, Epoch("i1", 1), address)
        paths: dict[int, Attributes] = {}
        groups: dict[tuple[int, int], list[str]] = {}
        for prefix in prefixes:
            origin = origin_of[prefix]
            if origin not in paths:
                middle = rng.sample(DOWNSTREAM, rng.randint(0, 3))
                paths[origin] = Attributes(
                    origin=Origin.IGP, next_hop=address, med=rng.choice([None, 0, 10]),
                    as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (asn, *middle, origin)),))
            groups.setdefault((origin, topics.partition_for(prefix, partitions)),
                              []).append(prefix)
        for (origin, partition), members in groups.items():
            for start in range(0, len(members), per_event):
                chunk = tuple(members[start:start + per_event])
                out.append((partition, ReceivedRoutes(H, session, seq, paths[origin], chunk)))
                seq += 1
    return out


def as_reads(stream: list[tuple[int, ReceivedRoutes]], per_read: int
             ) -> list[tuple[int, ReceivedUpdates]]:
    """The same UPDATEs as the speaker writes them: a session's UPDATEs taken together as
    from one socket read (up to ``per_read`` prefixes, counting every partition), one
    ``ReceivedUpdates`` per partition. Each session keeps its order; sessions interleave
    by read, as their connections do."""
    out: list[tuple[int, ReceivedUpdates]] = []
    reads: dict[Session, tuple[list[tuple[int, ReceivedRoutes]], list[int]]] = {}

    def flush(session: Session) -> None:
        events, _size = reads.pop(session)
        by_partition: dict[int, list[UpdatePart]] = {}
        for partition, e in events:
            by_partition.setdefault(partition, []).append(
                UpdatePart(e.update_seq, e.attributes, e.announced, e.withdrawn, e.notes))
        out.extend((partition, ReceivedUpdates(H, session, tuple(parts)))
                   for partition, parts in sorted(by_partition.items()))

    for partition, event in stream:
        events, size = reads.setdefault(event.session, ([], [0]))
        events.append((partition, event))
        size[0] += len(event.announced) + len(event.withdrawn)
        if size[0] >= per_read:
            flush(event.session)
    for session in list(reads):
        flush(session)
    return out


def _attributes(rng: random.Random, address: str, asn: int) -> Attributes:
    path = (asn, *rng.sample(DOWNSTREAM, rng.randint(1, 4)))
    return Attributes(origin=rng.choice([Origin.IGP, Origin.IGP, Origin.INCOMPLETE]),
                      next_hop=address, med=rng.choice([None, 0, 10, 50]),
                      as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),))


def example_topics(bootstrap: str, prefix: str, partitions: int) -> None:
    """The topics, and examples/'s configuration published as `ixrs run` publishes it (with
    its marker in every routes partition): a log ready for a synthetic stream."""
    from ixrs import admin, prepare

    admin.ensure_topics(bootstrap, prefix, partitions)
    prepare.publish_config(bootstrap, Deploy(topic_prefix=prefix, partitions=partitions),
                           load_config(str(GENERAL), str(CLIENTS)), [str(GENERAL), str(CLIENTS)])


def produce(bootstrap: str, prefix: str,
            stream: list[tuple[int, ReceivedRoutes]] | list[tuple[int, ReceivedUpdates]]
            ) -> None:
    producer = EventProducer(bootstrap, SingleObjectFraming())
    topic = topics.ROUTES.name(prefix)
    for partition, event in stream:
        producer.produce(topic, event, key=event.session.peer_address, partition=partition)
    producer.flush(120)


@dataclass
class RunningWorker:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def partitions(self) -> list[int] | None:
        """The partitions of its last assignment, from its `worker: partitions` line."""
        lines = [line for line in self.text().splitlines()
                 if line.startswith("worker: partitions ")]
        return json.loads(lines[-1].split(" ", 2)[2]) if lines else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                kill_quietly(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def worker_argv(bootstrap: str, prefix: str, tmp: Path, partitions: int,
                state_dir: Path, general: Path = GENERAL) -> list[str]:
    deploy = tmp / "ixrs.yml"
    deploy.write_text(f"kafka:\n  partitions: {partitions}\n")
    return [sys.executable, "-m", "ixrs", "worker", "--bootstrap", bootstrap,
            "--topic-prefix", prefix, "--general", str(general), "--clients", str(CLIENTS),
            "--deploy", str(deploy), "--state-dir", str(state_dir)]


def start_worker(argv: list[str], tmp: Path, started: bool = True,
                 env: dict[str, str] | None = None) -> RunningWorker:
    log = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, **(env or {})})
    running = RunningWorker(proc, log)
    if started:
        wait_for(lambda: _alive(running) and "worker: started" in running.text(), 60,
                 "the worker to start")
    return running


def _alive(worker: RunningWorker) -> bool:
    if worker.proc.poll() is not None:
        raise AssertionError(f"worker exited: {worker.text()[-3000:]}")
    return True


@dataclass
class Tail:
    """Everything written to a topic so far, read by one consumer that keeps its place."""

    bootstrap: str
    topic: str
    partitions: int
    events: list[tuple[int, int, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._counted = 0
        self._framing = SingleObjectFraming()
        self._consumer = Consumer(consumer_config(self.bootstrap))
        self._consumer.assign([TopicPartition(self.topic, p, 0)
                               for p in range(self.partitions)])

    def poll(self) -> list[tuple[int, int, Any]]:
        for msg in self._consumer.consume(5000, 0.2):
            if msg.error() is None:
                # a Decisions record as its per-prefix decisions, each at its offset
                self.events.extend((msg.partition(), msg.offset(), event) for event in
                                   per_prefix(self._framing.decode(msg.value())))
        return self.events

    def count(self) -> int:
        """Records read so far, reading on without decoding them (the end offsets the
        broker reports cannot be trusted: ../shared/KAFKA.md). Not to mix with poll()."""
        for msg in self._consumer.consume(5000, 0.2):
            if msg.error() is None:
                self._counted += 1
        return self._counted

    def close(self) -> None:
        self._consumer.close()


def uninterrupted(bootstrap: str, prefix: str, partitions: int) -> dict[str, Any]:
    """The outputs of one uninterrupted pass over the routes topic as it is now, by event id
    (headers left out: they carry the time), computed here with the workers' code."""
    config = load_config(str(GENERAL), str(CLIENTS))
    reader = ConfigReader(bootstrap, Deploy(topic_prefix=prefix, partitions=partitions))
    cache = {config.version: _policies(config)}

    def policies(version: str) -> Policies:
        if version not in cache:
            cache[version] = _policies(reader.load(version))
        return cache[version]

    procs = {p: PartitionProcessor(p, cache[config.version].imports, _no_data,
                                   Stamper("reference"), cache[config.version].exports,
                                   policies)
             for p in range(partitions)}
    topic = topics.ROUTES.name(prefix)
    outputs: dict[str, Any] = {}
    for partition, offset, event in read_partitions(bootstrap, topic, list(range(partitions)),
                                                    SingleObjectFraming()):
        for out in procs[partition].handle(Position(topic, partition, offset), event):
            for made in per_prefix(out.event):
                outputs[made.event_id] = headless(made)
    return outputs


def headless(event: Any) -> Any:
    return replace(event, header=H)


def _policies(config: Any) -> Policies:
    return Policies(ImportPolicy(config), ExportPolicy.from_config(config))


def _no_data(kind: str, name: str, version: str) -> Any:
    raise AssertionError(f"no data sets in this test: {kind} {name}")


def by_id(events: list[tuple[int, int, Any]]) -> Iterator[tuple[str, Any]]:
    for _p, _o, event in events:
        yield event.event_id, headless(event)
