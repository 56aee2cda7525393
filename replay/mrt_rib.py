"""``ixrs mrt rib``: a table at a moment, as TABLE_DUMP_V2.

- **Without --client: the Adj-RIB-In of every client**, every route each client had
  announced and not withdrawn at the moment, as it was received, whether the import policy
  accepted it or filtered it (MRT has no place for a verdict; ``ixrs replay --what adj-in``
  says which). One peer per client session (its address, ASN and BGP identifier); the
  originated time of an entry is the stamp of the routes event the speaker wrote for the
  socket read that announced it. Rebuilt by :mod:`replay.mrt_adjin`, partitions in
  parallel as replay does.
- **With --client: what the route server had sent that client**, its Adj-RIB-Out, folded
  from the speaker's sent records (:mod:`replay.adjout`): the table as the client's own
  collector would have dumped it, with the route server as the peer (its ASN, its address
  on the session, its BGP identifier), attributes exactly as sent, and the originated time
  when they were sent. One peer per session of the client (an ASN may have several).

Prefixes are in order, IPv4 first, and numbered from 0.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from ixrs import topics
from ixrs.config import Client
from replay import mrt, parallel
from replay.history import History
from replay.moment import Moment
from replay.mrt_adjin import Encoder, Entry, PeerKey, Row, in_rows, peer_key, prefix_key
from replay.mrt_sessions import LocalSide, read_sessions
from replay.progress import Progress
from replay.source import LogSource
from replay.state import rebuild_out


@dataclass
class RibSummary:
    peers: int = 0
    prefixes: int = 0
    entries: int = 0
    view: str = ""


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
        results, _ = parallel.run(lambda parts, p: in_rows(source, moment, parts, p),
                                  list(range(count)), parallel.jobs_for(count), progress)
        rows: Iterator[Row] = heapq.merge(*(r for r, _p in results), key=lambda row: row[0])
        summary.view = "adj-rib-in"
        peer_of = _client_peers(set().union(*(p for _r, p in results)))
    else:
        rows, peer_of = _out_rows(source, moment, clients, local)
        summary.view = _client_view(clients)
    when = moment.at_us if moment.at_us is not None else now_us
    peers = sorted(peer_of, key=lambda k: peer_of[k][0])
    summary.peers = len(peers)
    table = mrt.peer_index_table(local.router_id(version), summary.view,
                                 [peer_of[k][1] for k in peers])
    yield mrt.record(when, mrt.MrtType.TABLE_DUMP_V2, mrt.TableDumpV2.PEER_INDEX_TABLE, table)
    # The prefixes of one UPDATE share one entry object, and so its bytes (ids are stable:
    # the rows hold the entries until the end).
    made: dict[int, bytes] = {}
    for sequence, (_key, prefix, entries) in enumerate(rows):
        encoded = []
        for entry in entries:
            data = made.get(id(entry))
            if data is None:
                peer, originated, attributes = entry
                data = made[id(entry)] = mrt.rib_entry(peer_of[peer][0], originated,
                                                       attributes)
            encoded.append(data)
        summary.prefixes += 1
        summary.entries += len(encoded)
        yield mrt.record(when, mrt.MrtType.TABLE_DUMP_V2, mrt.rib_subtype(prefix),
                         mrt.rib_body(sequence, prefix, encoded))


def _client_view(clients: list[Client]) -> str:
    """The view name of a client's table: ``adj-rib-out AS20003 192.0.2.3,2001:db8:1::3``."""
    by_asn: dict[int, list[str]] = {}
    for client in clients:
        by_asn.setdefault(client.asn, []).append(client.ip)
    return "adj-rib-out " + " ".join(f"AS{asn} {','.join(ips)}" for asn, ips in by_asn.items())


def _client_peers(peers: set[PeerKey]) -> dict[PeerKey, tuple[int, mrt.Peer]]:
    """Peer index and entry of every client session that holds a route, by address."""
    out: dict[PeerKey, tuple[int, mrt.Peer]] = {}
    for index, key in enumerate(sorted(peers)):
        _version, _value, asn, bgp_id, _speaker, address = key
        out[key] = (index, mrt.Peer(bgp_id, address, asn))
    return out


def _out_rows(source: LogSource, moment: Moment, clients: list[Client], local: LocalSide
              ) -> tuple[Iterator[Row], dict[PeerKey, tuple[int, mrt.Peer]]]:
    """The selected clients' Adj-RIB-Out, with the route server as the peer of each
    session."""
    out = rebuild_out(source, moment)
    wanted = {c.ip for c in clients}
    encode = Encoder()
    peer_of: dict[PeerKey, tuple[int, mrt.Peer]] = {}
    by_prefix: dict[str, list[Entry]] = {}
    ribs = sorted((r for r in out.live() if r.session.peer_address in wanted),
                  key=lambda r: peer_key(r.session))
    for rib in ribs:
        key = peer_key(rib.session)
        peer_of[key] = (len(peer_of), mrt.Peer(local.router_id(), local.address(rib.session),
                                              local.asn()))
        for prefix, sent in rib.routes.items():
            by_prefix.setdefault(prefix, []).append(
                (key, sent.time_us, encode(sent.attributes, ":" in prefix)))
    rows = sorted(((prefix_key(p), p, e) for p, e in by_prefix.items()),
                  key=lambda row: row[0])
    return iter(rows), peer_of
