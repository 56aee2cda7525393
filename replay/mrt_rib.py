"""``ixrs mrt rib``: a table at a moment, as TABLE_DUMP_V2.

- **Without --client: the Adj-RIB-In of every client**, every route each client had
  announced and not withdrawn at the moment, as it was received, whether the import policy
  accepted it or filtered it (MRT has no place for a verdict; ``ixrs replay --what adj-in``
  says which). One peer per client session (its address, ASN and BGP identifier); the
  originated time of an entry is when the speaker read the UPDATE that announced it. The
  routes come from :class:`processors.ribin.AdjRibIn`, the Adj-RIB-In a worker's
  `PartitionProcessor` holds, applied to each routes partition up to the moment's cut as
  the processor applies it. Validation and decisions are left out: they do not change
  what was received.
- **With --client: what the route server had sent that client**, its Adj-RIB-Out, folded
  from the speaker's sent records (:mod:`replay.adjout`): the table as the client's own
  collector would have dumped it, with the route server as the peer (its ASN, its address
  on the session, its BGP identifier), attributes exactly as sent, and the originated time
  when they were sent. One peer per session of the client (an ASN may have several).

Prefixes are in order, IPv4 first, and numbered from 0.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ixrs import topics
from ixrs.config import Client
from processors.ribin import AdjRibIn, RibRoute
from processors.validate.net import parse_prefix
from replay import mrt, parallel
from replay.adjout import SessionId, session_id
from replay.history import History
from replay.moment import Moment
from replay.mrt_sessions import LocalSide, read_sessions
from replay.progress import Progress
from replay.source import LogSource
from replay.state import rebuild_out
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
Row = tuple[tuple[int, int, int], str, list[Entry]]  # (prefix order, prefix, entries)


@dataclass
class RibSummary:
    peers: int = 0
    prefixes: int = 0
    entries: int = 0
    view: str = ""


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


def _prefix_key(prefix: str) -> tuple[int, int, int]:
    net = parse_prefix(prefix)
    return (net.version, net.value, net.length)


def _peer_key(session: Session) -> PeerKey:
    address = ipaddress.ip_address(session.peer_address)
    return (address.version, int(address), session.peer_asn, session.router_id or "0.0.0.0",
            session.speaker_id, session.peer_address)


class _Encoder:
    """Attributes to RIB-entry bytes, once per attribute set and family: the routes of a
    table share a few sets (one object each, interned), so the cache is keyed by identity;
    the objects are kept so that no id is reused."""

    def __init__(self) -> None:
        self._done: dict[tuple[int, bool], bytes] = {}
        self._kept: list[Attributes] = []

    def __call__(self, attributes: Attributes, ipv6: bool) -> bytes:
        key = (id(attributes), ipv6)
        found = self._done.get(key)
        if found is None:
            found = self._done[key] = mrt.rib_attributes(attributes, ipv6)
            self._kept.append(attributes)
        return found


def _in_rows(source: LogSource, moment: Moment, partitions: list[int],
             progress: Progress | None) -> list[Row]:
    encode = _Encoder()
    peers: dict[Session, PeerKey] = {}  # a partition's routes share a few session objects
    rows: list[Row] = []
    for partition in partitions:
        rib, times = adj_rib_in(source, partition, moment, progress)
        for prefix, routes in rib.routes.items():
            ipv6 = ":" in prefix
            entries = []
            for route in routes.values():
                peer = peers.get(route.session)
                if peer is None:
                    peer = peers[route.session] = _peer_key(route.session)
                entries.append((peer, times.of(route), encode(route.attributes, ipv6)))
            entries.sort()
            rows.append((_prefix_key(prefix), prefix, entries))
        if progress is not None:
            progress.done_parts += 1
    rows.sort(key=lambda row: row[0])
    return rows


def rib_records(source: LogSource, moment: Moment, clients: list[Client] | None,
                now_us: int, summary: RibSummary | None = None,
                progress: Progress | None = None) -> Iterator[bytes]:
    """The PEER_INDEX_TABLE, then one RIB record per prefix. ``now_us`` stamps the records
    of a moment given by offsets (a time moment stamps them with its time)."""
    summary = summary if summary is not None else RibSummary()
    history = History(source)
    version = history.version_at(moment)
    local = LocalSide(history, read_sessions(source), version)
    if clients is None:
        count = source.partitions(topics.ROUTES)
        if progress is not None:
            progress.parts = count
        results, _ = parallel.run(lambda parts, p: _in_rows(source, moment, parts, p),
                                  list(range(count)), parallel.jobs_for(count), progress)
        rows: Iterator[Row] = heapq.merge(*results, key=lambda row: row[0])
        summary.view = "adj-rib-in"
        peer_of = _client_peers([e for r in results for row in r for e in row[2]])
    else:
        rows, peer_of = _out_rows(source, moment, clients, local)
        summary.view = "adj-rib-out " + " ".join(f"AS{c.asn} {c.ip}" for c in clients)
    when = moment.at_us if moment.at_us is not None else now_us
    peers = sorted(peer_of, key=lambda k: peer_of[k][0])
    summary.peers = len(peers)
    table = mrt.peer_index_table(local.router_id(version), summary.view,
                                 [peer_of[k][1] for k in peers])
    yield mrt.record(when, mrt.MrtType.TABLE_DUMP_V2, mrt.TableDumpV2.PEER_INDEX_TABLE, table)
    for sequence, (_key, prefix, entries) in enumerate(rows):
        encoded = [mrt.rib_entry(peer_of[peer][0], originated, attributes)
                   for peer, originated, attributes in entries]
        summary.prefixes += 1
        summary.entries += len(encoded)
        yield mrt.record(when, mrt.MrtType.TABLE_DUMP_V2, mrt.rib_subtype(prefix),
                         mrt.rib_body(sequence, prefix, encoded))


def _client_peers(entries: list[Entry]) -> dict[PeerKey, tuple[int, mrt.Peer]]:
    """Peer index and entry of every client session that holds a route, by address."""
    out: dict[PeerKey, tuple[int, mrt.Peer]] = {}
    for index, key in enumerate(sorted({peer for peer, _t, _a in entries})):
        _version, _value, asn, bgp_id, _speaker, address = key
        out[key] = (index, mrt.Peer(bgp_id, address, asn))
    return out


def _out_rows(source: LogSource, moment: Moment, clients: list[Client], local: LocalSide
              ) -> tuple[Iterator[Row], dict[PeerKey, tuple[int, mrt.Peer]]]:
    """The selected clients' Adj-RIB-Out, with the route server as the peer of each
    session."""
    out = rebuild_out(source, moment)
    wanted = {c.ip for c in clients}
    encode = _Encoder()
    peer_of: dict[PeerKey, tuple[int, mrt.Peer]] = {}
    by_prefix: dict[str, list[Entry]] = {}
    ribs = sorted((r for r in out.live() if r.session.peer_address in wanted),
                  key=lambda r: _peer_key(r.session))
    for rib in ribs:
        key = _peer_key(rib.session)
        peer_of[key] = (len(peer_of), mrt.Peer(local.router_id(), local.address(rib.session),
                                              local.asn()))
        for prefix, sent in rib.routes.items():
            by_prefix.setdefault(prefix, []).append(
                (key, sent.time_us, encode(sent.attributes, ":" in prefix)))
    rows = sorted(((_prefix_key(p), p, e) for p, e in by_prefix.items()),
                  key=lambda row: row[0])
    return iter(rows), peer_of
