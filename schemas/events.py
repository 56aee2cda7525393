"""The events ixrs writes: one frozen dataclass per Avro record type.

Each class here has the name of its record in ``schemas/ixrs.<Name>.avsc`` and
the same fields in the same order; :mod:`schemas.codec` maps one onto the other
and a test checks that they agree. The module is plain data: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from schemas.attributes import (
    Aggregator,
    AsPathSegment,
    Attributes,
    Origin,
    RawAttribute,
    SegmentType,
)

__all__ = [
    "EVENT_TYPES",
    "Aggregator",
    "AsPathSegment",
    "Attributes",
    "BrokerIncarnation",
    "ClientOutcome",
    "ConfigVersion",
    "DataSetChunk",
    "DataSetMarker",
    "DataSetRef",
    "DataSetVersion",
    "Decision",
    "DecisionGroup",
    "Decisions",
    "Epoch",
    "Event",
    "EventHeader",
    "IrrPrefix",
    "NotificationInfo",
    "Origin",
    "PeerNotice",
    "Position",
    "RawAttribute",
    "RawUpdate",
    "RawUpdates",
    "Reason",
    "ReceivedRoutes",
    "ReceivedUpdates",
    "Route",
    "SegmentType",
    "SentUpdate",
    "Session",
    "SessionChange",
    "SessionState",
    "SourceFile",
    "SpeakerIncarnation",
    "UpdatePart",
    "Verdict",
    "VerdictGroup",
    "Vrp",
]


@dataclass(frozen=True, slots=True)
class EventHeader:
    producer_id: str
    seq: int
    event_time_us: int
    config_version: str = ""


@dataclass(frozen=True, slots=True)
class Epoch:
    incarnation: str
    counter: int


@dataclass(frozen=True, slots=True)
class Session:
    speaker_id: str
    peer_address: str
    peer_asn: int
    epoch: Epoch
    router_id: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    topic: str
    partition: int
    offset: int

    def event_id(self) -> str:
        """The deterministic id of the output derived from this input."""
        return f"{self.topic}:{self.partition}:{self.offset}"


class SessionState(IntEnum):
    """RFC 4271 §8.2.2 states."""

    IDLE = 0
    CONNECT = 1
    ACTIVE = 2
    OPENSENT = 3
    OPENCONFIRM = 4
    ESTABLISHED = 5


@dataclass(frozen=True, slots=True)
class NotificationInfo:
    sent: bool
    code: int
    subcode: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class SessionChange:
    header: EventHeader
    session: Session
    state: SessionState
    previous_state: SessionState
    reason: str = ""
    notification: NotificationInfo | None = None
    local_address: str = ""
    families: tuple[str, ...] = ()
    four_octet_as: bool = True


@dataclass(frozen=True, slots=True)
class PeerNotice:
    header: EventHeader
    speaker_id: str
    peer_address: str
    peer_asn: int | None
    kind: str
    action: str = ""
    detail: str = ""
    session: Session | None = None
    suppressed: int = 0


@dataclass(frozen=True, slots=True)
class ReceivedRoutes:
    header: EventHeader
    session: Session
    update_seq: int
    attributes: Attributes | None = None
    announced: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RawUpdate:
    header: EventHeader
    session: Session
    update_seq: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class UpdatePart:
    update_seq: int
    attributes: Attributes | None = None
    announced: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceivedUpdates:
    """What the speaker writes since issue 5; ``ReceivedRoutes`` is one part of it,
    still read from older logs."""

    header: EventHeader
    session: Session
    parts: tuple[UpdatePart, ...]


@dataclass(frozen=True, slots=True)
class RawUpdates:
    header: EventHeader
    session: Session
    first_seq: int
    messages: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class SpeakerIncarnation:
    header: EventHeader
    speaker_id: str
    incarnation: str


@dataclass(frozen=True, slots=True)
class Reason:
    code: int
    name: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VerdictGroup:
    prefixes: tuple[str, ...]
    accepted: bool
    reasons: tuple[Reason, ...]
    attributes: Attributes | None = None


@dataclass(frozen=True, slots=True)
class DataSetRef:
    kind: str
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Verdict:
    header: EventHeader
    event_id: str
    input: Position
    session: Session
    groups: tuple[VerdictGroup, ...]
    datasets: tuple[DataSetRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    session: Session
    attributes: Attributes
    router_id: str = ""


@dataclass(frozen=True, slots=True)
class ClientOutcome:
    client: str
    route: Route | None = None
    step: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    header: EventHeader
    event_id: str
    input: Position
    prefix: str
    best: Route | None = None
    step: str = ""
    candidates: int = 0
    outcomes: tuple[ClientOutcome, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionGroup:
    prefixes: tuple[str, ...]
    best: Route | None = None
    step: str = ""
    candidates: int = 0
    outcomes: tuple[ClientOutcome, ...] = ()


@dataclass(frozen=True, slots=True)
class Decisions:
    header: EventHeader
    input: Position
    groups: tuple[DecisionGroup, ...]


@dataclass(frozen=True, slots=True)
class SentUpdate:
    header: EventHeader
    session: Session
    raw: bytes
    caused_by: tuple[str, ...] = ()
    kind: str = "update"


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    header: EventHeader
    version: str
    config_json: str
    sources: tuple[SourceFile, ...] = ()


@dataclass(frozen=True, slots=True)
class DataSetVersion:
    header: EventHeader
    kind: str
    name: str
    version: str
    chunks: int
    items: int
    source: str = ""


@dataclass(frozen=True, slots=True)
class Vrp:
    prefix: str
    max_length: int
    asn: int
    ta: str = ""


@dataclass(frozen=True, slots=True)
class IrrPrefix:
    list_name: str
    prefix: str
    exact: bool = True
    ge: int | None = None
    le: int | None = None


@dataclass(frozen=True, slots=True)
class DataSetChunk:
    header: EventHeader
    kind: str
    name: str
    version: str
    index: int
    vrps: tuple[Vrp, ...] = ()
    irr: tuple[IrrPrefix, ...] = ()


@dataclass(frozen=True, slots=True)
class DataSetMarker:
    header: EventHeader
    kind: str
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class BrokerIncarnation:
    header: EventHeader
    incarnation: str


Event = (
    SessionChange
    | ReceivedRoutes
    | RawUpdate
    | SpeakerIncarnation
    | Verdict
    | Decision
    | Decisions
    | SentUpdate
    | ConfigVersion
    | DataSetVersion
    | DataSetChunk
    | DataSetMarker
    | BrokerIncarnation
    | PeerNotice
)

# Every top-level event type, each with its own schema file.
EVENT_TYPES: tuple[type, ...] = (
    SessionChange,
    ReceivedRoutes,
    ReceivedUpdates,
    RawUpdate,
    RawUpdates,
    SpeakerIncarnation,
    Verdict,
    Decision,
    Decisions,
    SentUpdate,
    ConfigVersion,
    DataSetVersion,
    DataSetChunk,
    DataSetMarker,
    BrokerIncarnation,
    PeerNotice,
)
