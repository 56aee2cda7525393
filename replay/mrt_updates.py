"""``ixrs mrt updates``: the BGP messages and session changes of a period, as BGP4MP_ET.

Three topics, merged into one stream in time order:

- `raw-updates`: every UPDATE a client sent, byte for byte as the speaker read it
  (`RawUpdates`, one per socket read; `RawUpdate` in older logs) -> MESSAGE_AS4;
- `sent`: every message the speaker wrote to a client (`SentUpdate.raw`: UPDATEs,
  End-of-RIB, and the ROUTE-REFRESH demarcations of an enhanced route refresh) ->
  MESSAGE_AS4_LOCAL;
- `sessions`: every `SessionChange` -> STATE_CHANGE_AS4.

A session that did not negotiate 4-octet ASNs gets MESSAGE / MESSAGE_LOCAL instead (see
:func:`replay.mrt.bgp4mp_message`). The period is (from, to] by the events' stamps
(`header.event_time_us`: when the speaker read or wrote the bytes), the same as
``replay --verify``; the messages of one socket read share its stamp and keep their order.
Records are ordered by stamp, then by producer and the producer's gap-free sequence number,
which is the order one speaker did things in when its clock gave two events one
microsecond. The period's records are held in memory (encoded) to be sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ixrs import topics
from replay import mrt
from replay.history import History
from replay.moment import Moment
from replay.mrt_sessions import LocalSide, read_sessions
from replay.source import LogSource
from schemas.events import EventHeader, RawUpdate, RawUpdates, SentUpdate, Session

# (stamp, producer, producer's sequence number, message within the event)
SortKey = tuple[int, str, int, int]


@dataclass
class UpdatesSummary:
    received: int = 0  # messages
    sent: int = 0
    state_changes: int = 0


def update_records(source: LogSource, from_us: int, to_us: int,
                   summary: UpdatesSummary | None = None) -> Iterator[bytes]:
    """The MRT records of the period, in time order."""
    summary = summary if summary is not None else UpdatesSummary()
    history = History(source)
    sessions = read_sessions(source)
    local = LocalSide(history, sessions, history.version_at(Moment(at_us=to_us)))
    rows: list[tuple[SortKey, bytes]] = []

    def inside(header: EventHeader) -> bool:
        return from_us < header.event_time_us <= to_us

    ends: dict[tuple[Session, str], tuple[int, int, str, str, bool]] = {}

    def message(header: EventHeader, index: int, session: Session, raw: bytes,
                sent: bool) -> None:
        version = header.config_version
        found = ends.get((session, version))  # the same for every message of a session
        if found is None:
            found = ends[(session, version)] = (
                session.peer_asn, local.asn(version), session.peer_address,
                local.address(session, version), local.four_octet_as(session))
        peer_as, local_as, peer_ip, local_ip, four_octet_as = found
        subtype, body = mrt.bgp4mp_message(peer_as, local_as, peer_ip, local_ip, raw,
                                           sent=sent, four_octet_as=four_octet_as)
        rows.append(((header.event_time_us, header.producer_id, header.seq, index),
                     mrt.record(header.event_time_us, mrt.MrtType.BGP4MP_ET, subtype, body)))

    for change in sessions.changes:
        header = change.header
        if not inside(header):
            continue
        session = change.session
        subtype, body = mrt.bgp4mp_state_change(
            session.peer_asn, local.asn(header.config_version), session.peer_address,
            local.address(session, header.config_version), change.previous_state,
            change.state)
        rows.append(((header.event_time_us, header.producer_id, header.seq, 0),
                     mrt.record(header.event_time_us, mrt.MrtType.BGP4MP_ET, subtype, body)))
        summary.state_changes += 1

    for event in _in_period(source, topics.RAW_UPDATES, inside):
        if isinstance(event, RawUpdates):
            for index, raw in enumerate(event.messages):
                message(event.header, index, event.session, raw, False)
            summary.received += len(event.messages)
        elif isinstance(event, RawUpdate):
            message(event.header, 0, event.session, event.raw, False)
            summary.received += 1

    for event in _in_period(source, topics.SENT, inside):
        if isinstance(event, SentUpdate):
            message(event.header, 0, event.session, event.raw, True)
            summary.sent += 1

    rows.sort(key=lambda row: row[0])
    for _key, data in rows:
        yield data


def _in_period(source: LogSource, spec: topics.TopicSpec,
               inside: Callable[[EventHeader], bool]) -> Iterator[object]:
    """The events of every partition of a topic whose stamp is in the period; the others
    are not decoded (their header is read alone)."""
    framing = source.framing
    for partition in range(source.partitions(spec)):
        for _offset, value in source.records(spec, partition):
            if inside(framing.header(value)):
                yield framing.decode(value)
