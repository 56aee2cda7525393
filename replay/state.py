"""``ixrs replay --at``: the whole route server at a moment, as JSON records.

- **adj-in**: every route each client had announced, as received, with its outcome: accepted
  or filtered, and every reason (rebuilt by the workers' own code: :mod:`replay.rebuild`);
- **decisions**: per prefix, the default best route and the step that settled it, and the
  clients whose outcome differs; with ``--client``, that client's own outcome, with the
  attributes the export policy gives it;
- **adj-out**: every route each client had been sent, from the speaker's sent records
  (:mod:`replay.adjout`), with when and why it was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ixrs import topics
from processors.partition import SharedCaches
from processors.validate.net import parse_prefix
from processors.views import outcome_for, step_for
from replay.adjout import AdjRibOut, SessionBook
from replay.history import History
from replay.moment import Moment, cut
from replay.progress import Progress
from replay.rebuild import Rebuilt, rebuild_partition
from replay.render import (
    attributes_json,
    outcome_json,
    peer_json,
    position_text,
    reasons_json,
    route_json,
    time_text,
)
from replay.source import LogSource, events
from schemas.events import Position

WHAT = ("adj-in", "decisions", "adj-out")


@dataclass
class State:
    moment: Moment
    history: History
    partitions: list[Rebuilt]
    out: AdjRibOut | None

    @property
    def version(self) -> str:
        """The configuration version in force: the newest any partition reached."""
        versions = [r.config_versions[-1] for r in self.partitions]
        order = {v: i for i, (_t, v) in enumerate(self.history.versions())}
        return max(versions, key=lambda v: order.get(v, -1))


def rebuild_state(source: LogSource, moment: Moment, what: tuple[str, ...] = WHAT,
                  progress: Progress | None = None) -> State:
    history = History(source)
    caches = SharedCaches()  # as in a worker: memos shared by the partitions
    rebuilt = []
    # Even for adj-out alone: the configuration in force (who the clients are) comes from it.
    count = source.partitions(topics.ROUTES)
    if progress is not None:
        progress.parts = count
    for partition in range(count):
        rebuilt.append(rebuild_partition(source, history, partition, moment, caches=caches,
                                         progress=progress))
        if progress is not None:
            progress.done_parts += 1
    out = rebuild_out(source, moment) if "adj-out" in what else None
    return State(moment, history, rebuilt, out)


def session_book(source: LogSource, moment: Moment) -> SessionBook:
    book = SessionBook()
    for _offset, event in cut(moment, topics.SESSIONS.suffix, 0,
                              events(source, topics.SESSIONS, 0)):
        book.apply(event)
    return book


def rebuild_out(source: LogSource, moment: Moment, partitions: list[int] | None = None
                ) -> AdjRibOut:
    out = AdjRibOut(session_book(source, moment))
    name = topics.SENT.name(source.prefix)
    for partition in partitions if partitions is not None else \
            range(source.partitions(topics.SENT)):
        for offset, event in cut(moment, topics.SENT.suffix, partition,
                                 events(source, topics.SENT, partition)):
            out.apply(Position(name, partition, offset), event)
    return out


def records(state: State, what: tuple[str, ...], clients: set[str] | None
            ) -> Iterator[dict[str, Any]]:
    """The JSON records of the state: adj-in, then decisions, then adj-out, each sorted."""
    if "adj-in" in what:
        yield from _adj_in(state, clients)
    if "decisions" in what:
        yield from _decisions(state, clients)
    if "adj-out" in what and state.out is not None:
        yield from _adj_out(state.out, clients)


def _key(prefix: str) -> tuple[int, int, int]:
    net = parse_prefix(prefix)
    return (net.version, net.value, net.length)


def _adj_in(state: State, clients: set[str] | None) -> Iterator[dict[str, Any]]:
    rows = []
    for part in state.partitions:
        proc = part.processor
        for prefix, routes in proc.rib.routes.items():
            for key, route in routes.items():
                if clients is not None and route.session.peer_address not in clients:
                    continue
                rows.append((route.session.peer_address, _key(prefix), prefix, key, route, proc))
    rows.sort(key=lambda r: (r[0], r[1]))
    for _ip, _k, prefix, key, route, proc in rows:
        accepted, reasons, imported = proc.verdicts.get(prefix, {}).get(key, (None, (), None))
        record: dict[str, Any] = {
            "type": "adj-in", "client": peer_json(route.session), "prefix": prefix,
            "attributes": attributes_json(route.attributes),
            "accepted": accepted, "reasons": reasons_json(reasons),
        }
        if imported is not None and imported != route.attributes:
            record["imported"] = attributes_json(imported)  # as the import policy left it
        yield record


def _decisions(state: State, clients: set[str] | None) -> Iterator[dict[str, Any]]:
    rows = sorted(((_key(p), p, d, part.processor) for part in state.partitions
                   for p, d in part.processor.decisions.items()), key=lambda r: r[0])
    for _k, prefix, decision, proc in rows:
        if clients is None:
            yield {"type": "decision", "prefix": prefix, "best": route_json(decision.best),
                   "step": decision.step, "candidates": decision.candidates,
                   "outcomes": [outcome_json(o) for o in decision.outcomes]}
            continue
        for ip in sorted(clients):
            peer = proc.export.peer(ip)
            if peer is None:
                continue
            route, attributes = outcome_for(decision, peer)
            yield {"type": "decision", "prefix": prefix, "client": {"asn": peer.asn, "ip": ip},
                   "route": None if route is None else {
                       "from": peer_json(route.session),
                       "attributes": attributes_json(attributes)},
                   "step": step_for(decision, peer), "candidates": decision.candidates}


def _adj_out(out: AdjRibOut, clients: set[str] | None) -> Iterator[dict[str, Any]]:
    for rib in sorted(out.live(), key=lambda r: r.session.peer_address):
        if clients is not None and rib.session.peer_address not in clients:
            continue
        for prefix in sorted(rib.routes, key=_key):
            sent = rib.routes[prefix]
            yield {"type": "adj-out", "client": peer_json(rib.session), "prefix": prefix,
                   "attributes": attributes_json(sent.attributes),
                   "sent_at": time_text(sent.time_us), "record": position_text(sent.position),
                   "caused_by": list(sent.caused_by)}
