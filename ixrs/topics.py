"""Every Kafka topic ixrs uses, declared in one place.

Facts are kept forever (``cleanup.policy=delete``, ``retention.ms=-1``): the
event log is the source of truth and every cache is rebuilt from it. Partition
counts are fixed at creation; ixrs refuses to run against topics that have a
different count, because the embedded broker cannot add partitions and moving
a prefix to another partition would break per-prefix ordering.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import Enum

from schemas import events

# A configuration of a few thousand sessions is several MB of JSON, beyond Kafka's
# default 1 MB record limit; it is written gzip-compressed to a topic that allows this.
LARGE_RECORD_BYTES = 32 * 1024 * 1024
LARGE_RECORD_PRODUCER = {"compression.type": "gzip", "message.max.bytes": LARGE_RECORD_BYTES}


class Partitioning(Enum):
    SINGLE = "single"  # one partition: a total order
    BY_PREFIX = "by-prefix"  # partition_for(prefix): all events of one prefix in one partition
    BY_SESSION = "by-session"  # partition_for(peer address)


@dataclass(frozen=True)
class TopicSpec:
    suffix: str
    partitioning: Partitioning
    key: str  # what the record key holds, for readers
    records: tuple[type, ...]
    doc: str
    compacted: bool = False
    large_records: bool = False  # whole configurations: allowed up to LARGE_RECORD_BYTES

    def name(self, prefix: str) -> str:
        return f"{prefix}{self.suffix}"

    def partitions(self, routes_partitions: int) -> int:
        return 1 if self.partitioning is Partitioning.SINGLE else routes_partitions

    def config(self) -> dict[str, str]:
        if self.compacted:
            settings = {"cleanup.policy": "compact"}
        else:
            settings = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
        if self.large_records:
            settings["max.message.bytes"] = str(LARGE_RECORD_BYTES)
        return settings


ROUTES = TopicSpec(
    "routes", Partitioning.BY_PREFIX, "peer address (markers: speaker id or data-set name)",
    (events.ReceivedUpdates, events.ReceivedRoutes, events.SessionChange,
     events.SpeakerIncarnation, events.DataSetMarker),
    "Received routes, one event per (socket read of a session, partition) holding the "
    "UPDATEs read together (ReceivedRoutes, one per UPDATE, in logs written before "
    "issue 5's batching), with the session-down, "
    "speaker-incarnation and data-set markers that must be applied in order with them.",
)
RAW_UPDATES = TopicSpec(
    "raw-updates", Partitioning.BY_SESSION, "peer address",
    (events.RawUpdates, events.RawUpdate),
    "Every received UPDATE byte for byte, for byte-exact MRT export: one event per "
    "socket read (RawUpdate, one per UPDATE, in older logs).",
)
SESSIONS = TopicSpec(
    "sessions", Partitioning.SINGLE, "peer address", (events.SessionChange, events.PeerNotice),
    "Every session state change of every speaker, in one total order, and the notices "
    "about refused connections and max-prefix actions.",
)
VERDICTS = TopicSpec(
    "verdicts", Partitioning.BY_PREFIX, "peer address", (events.Verdict,),
    "Import-policy verdicts, in the partition of the routes they judge.",
)
DECISIONS = TopicSpec(
    "decisions", Partitioning.BY_PREFIX, "first prefix", (events.Decisions, events.Decision),
    "Per-prefix decisions, what each client is now to be sent and why: one Decisions event "
    "per decision pass of an input event in a partition, prefixes with the same result "
    "grouped (Decision, one per prefix, in logs written before).",
)
SENT = TopicSpec(
    "sent", Partitioning.BY_SESSION, "client address", (events.SentUpdate,),
    "Every message the speaker sent to a client, with its causes.",
)
CONFIG = TopicSpec(
    "config", Partitioning.SINGLE, "configuration version", (events.ConfigVersion,),
    "Each configuration that came into force, in full.", large_records=True,
)
DATASETS = TopicSpec(
    "datasets", Partitioning.SINGLE, "kind/name", (events.DataSetChunk, events.DataSetVersion),
    "Policy data sets (RPKI VRPs, IRR prefix lists): chunks, then their manifest.",
)
BROKER = TopicSpec(
    "broker", Partitioning.SINGLE, "none", (events.BrokerIncarnation,),
    "The broker-incarnation record; the first record is authoritative.",
)

# DataSetMarker.kind of a marker saying that a configuration version comes into force
# (ixrs.prepare.publish_config writes one into every routes partition).
CONFIG_MARKER = "config"

ALL: tuple[TopicSpec, ...] = (
    ROUTES, RAW_UPDATES, SESSIONS, VERDICTS, DECISIONS, SENT, CONFIG, DATASETS, BROKER,
)


def partition_for(key: str, partitions: int) -> int:
    """The partition of a prefix (or a peer address) among ``partitions``.

    CRC-32 (IEEE 802.3, as zlib and librdkafka compute it) of the key's UTF-8
    text, modulo the partition count. This is librdkafka's ``consistent``
    partitioner for that key, so any confluent-kafka producer can reproduce
    it. A prefix's key is its canonical text (``"185.50.0.0/24"``).
    """
    return zlib.crc32(key.encode()) % partitions
