"""The Adj-RIB-In of the routes partitions at a moment, as the rows of an MRT RIB dump.

Each routes partition is applied to :class:`processors.ribin.AdjRibIn`, the Adj-RIB-In a
worker's `PartitionProcessor` holds, up to the moment's cut, as the processor applies it;
validation and decisions are left out, as they do not change what was received. A row is
one prefix with one entry per client session holding a route for it: the session (a peer
of the dump), the route's originated time, its attributes encoded for a RIB entry.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from ixrs import topics
from processors.ribin import AdjRibIn, RibRoute
from replay import mrt
from replay.adjout import SessionId, session_id
from replay.moment import Moment
from replay.progress import Progress
from replay.source import LogSource
from schemas.attributes import Attributes
from schemas.events import (
    ReceivedRoutes,
    ReceivedUpdates,
    Session,
    SessionChange,
    SpeakerIncarnation,
)

APPLIED = (ReceivedUpdates, ReceivedRoutes, SessionChange, SpeakerIncarnation)
# (IP version, address as a number, ASN, BGP id, speaker id, address text): the order of the
# peer index table, and what its entries say
PeerKey = tuple[int, int, int, str, str, str]
Entry = tuple[PeerKey, int, bytes]  # (peer, originated time, encoded attributes)
PrefixKey = tuple[int, bytes, int]  # (IP version, packed address, length)
Row = tuple[PrefixKey, str, list[Entry]]  # (prefix order, prefix, entries)


@dataclass
class _Times:
    """When each UPDATE of each session was read: per session, the first update_seq of every
    routes event and that event's stamp, in log order. A route keeps its update_seq
    (processors.ribin.RibRoute), so its time is found by bisection; one entry per event,
    not per prefix."""

    seqs: dict[SessionId, list[int]] = field(default_factory=dict)
    stamps: dict[SessionId, list[int]] = field(default_factory=dict)

    def note(self, event: ReceivedUpdates | ReceivedRoutes) -> None:
        first = event.update_seq if isinstance(event, ReceivedRoutes) else \
            min((part.update_seq for part in event.parts), default=None)
        if first is None:
            return
        key = session_id(event.session)
        self.seqs.setdefault(key, []).append(first)
        self.stamps.setdefault(key, []).append(event.header.event_time_us)

    def of(self, route: RibRoute) -> int:
        key = session_id(route.session)
        seqs = self.seqs.get(key)
        if not seqs:
            return 0
        at = bisect.bisect_right(seqs, route.update_seq) - 1
        return self.stamps[key][max(at, 0)]


class _Header:
    __slots__ = ("header",)

    def __init__(self, header: Any) -> None:
        self.header = header


def adj_rib_in(source: LogSource, partition: int, moment: Moment,
               progress: Progress | None = None) -> tuple[AdjRibIn, _Times]:
    """One routes partition's Adj-RIB-In at the moment. Records that cannot change it
    (data-set and configuration markers) are not decoded; their header still counts for
    the cut."""
    rib, times = AdjRibIn(), _Times()
    framing = source.framing
    for offset, value in source.records(topics.ROUTES, partition):
        if framing.event_class(value) not in APPLIED:
            if not moment.includes(topics.ROUTES.suffix, partition, offset,
                                   _Header(framing.header(value))):
                break
            continue
        event = framing.decode(value)
        if not moment.includes(topics.ROUTES.suffix, partition, offset, event):
            break
        if isinstance(event, (ReceivedUpdates, ReceivedRoutes)):
            times.note(event)
        rib.apply(event)
        if progress is not None:
            progress.add(event)
    return rib, times


def prefix_key(prefix: str) -> PrefixKey:
    """The order of the dump: IPv4 first, then by address and length. The packed address
    compares as the number does (fixed width, big-endian) and costs a C call where a
    parsed one costs a few Python ones, for every prefix of a table."""
    address, _slash, length = prefix.partition("/")
    if ":" in address:
        return (6, socket.inet_pton(socket.AF_INET6, address), int(length))
    return (4, socket.inet_pton(socket.AF_INET, address), int(length))


def peer_key(session: Session) -> PeerKey:
    address = ipaddress.ip_address(session.peer_address)
    return (address.version, int(address), session.peer_asn, session.router_id or "0.0.0.0",
            session.speaker_id, session.peer_address)


class Encoder:
    """Attributes to RIB-entry bytes, once per attribute set and family. The routes of a
    table share a few sets: by identity first (the Adj-RIB-In's are interned, one object
    each; the objects are kept so that no id is reused), then by value (the Adj-RIB-Out's
    are decoded afresh from every message sent)."""

    def __init__(self) -> None:
        self._by_id: dict[tuple[int, bool], bytes] = {}
        self._by_value: dict[tuple[Attributes, bool], bytes] = {}
        self._kept: list[Attributes] = []

    def __call__(self, attributes: Attributes, ipv6: bool) -> bytes:
        key = (id(attributes), ipv6)
        found = self._by_id.get(key)
        if found is None:
            found = self._by_value.get((attributes, ipv6))
            if found is None:
                found = self._by_value[(attributes, ipv6)] = mrt.rib_attributes(attributes,
                                                                                ipv6)
            self._by_id[key] = found
            self._kept.append(attributes)
        return found


def in_rows(source: LogSource, moment: Moment, partitions: list[int],
            progress: Progress | None) -> tuple[list[Row], set[PeerKey]]:
    """The rows of these partitions in prefix order, and the peers they name."""
    encode = Encoder()
    peers: dict[Session, PeerKey] = {}  # a partition's routes share a few session objects
    rows: list[Row] = []
    for partition in partitions:
        rib, times = adj_rib_in(source, partition, moment, progress)
        # The prefixes of one UPDATE share one RibRoute object, and so its entry.
        made: dict[tuple[int, bool], Entry] = {}
        for prefix, routes in rib.routes.items():
            ipv6 = ":" in prefix
            entries = []
            for route in routes.values():
                entry = made.get((id(route), ipv6))
                if entry is None:
                    peer = peers.get(route.session)
                    if peer is None:
                        peer = peers[route.session] = peer_key(route.session)
                    entry = made[(id(route), ipv6)] = (peer, times.of(route),
                                                       encode(route.attributes, ipv6))
                entries.append(entry)
            entries.sort()
            rows.append((prefix_key(prefix), prefix, entries))
        if progress is not None:
            progress.done_parts += 1
    rows.sort(key=lambda row: row[0])
    return rows, set(peers.values())
