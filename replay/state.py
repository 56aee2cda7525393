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

import heapq
import ipaddress
import json
from collections.abc import Iterator
from typing import Any

from ixrs import topics
from processors.partition import SharedCaches
from processors.views import outcome_for, step_for
from replay import parallel
from replay.adjout import AdjRibOut, SessionBook
from replay.history import History
from replay.moment import Moment, cut
from replay.progress import Progress
from replay.rebuild import Rebuilt, rebuild_partition
from replay.render import (
    JsonTexts,
    attributes_json,
    peer_json,
    position_text,
    prefix_key,
    reasons_json,
    time_text,
)
from replay.source import LogSource, events
from schemas.events import Position

WHAT = ("adj-in", "decisions", "adj-out")


Row = tuple[tuple[Any, ...], str]  # (sort key, JSON line)


def replay_lines(source: LogSource, moment: Moment, what: tuple[str, ...],
                 clients: set[str] | None, progress: Progress | None = None,
                 jobs: int | None = None) -> Iterator[str]:
    """The state at the moment as JSON lines: adj-in, then decisions, then adj-out, each
    sorted by client and prefix. Routes partitions are replayed in parallel
    (:mod:`replay.parallel`), the sent topic meanwhile in this process."""
    count = source.partitions(topics.ROUTES)
    if progress is not None:
        progress.parts = count

    def task(partitions: list[int], progress: Progress | None) -> dict[str, list[Row]]:
        history = History(source)  # each process reads the configuration with its own client
        caches = SharedCaches()  # as in a worker: memos shared by the partitions
        rebuilt = []
        for partition in partitions:
            rebuilt.append(rebuild_partition(source, history, partition, moment, caches=caches,
                                             progress=progress, final_only=True))
            if progress is not None:
                progress.done_parts += 1
        rows: dict[str, list[Row]] = {}
        if "adj-in" in what:
            rows["adj-in"] = sorted(_adj_in(rebuilt, clients))
        if "decisions" in what:
            rows["decisions"] = sorted(_decisions(rebuilt, clients))
        return rows

    needs_routes = "adj-in" in what or "decisions" in what
    results, out = parallel.run(
        task, list(range(count)) if needs_routes else [], parallel.jobs_for(count), progress,
        meanwhile=(lambda: rebuild_out(source, moment)) if "adj-out" in what else None)
    for kind in ("adj-in", "decisions"):
        if kind in what:
            for _key, line in heapq.merge(*(r[kind] for r in results)):
                yield line
    if out is not None:
        for record in _adj_out(out, clients):
            yield json.dumps(record)


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


def _adj_in(rebuilt: list[Rebuilt], clients: set[str] | None) -> Iterator[Row]:
    texts = JsonTexts()
    for part in rebuilt:
        proc = part.processor
        for prefix, routes in proc.rib.routes.items():
            for key, route in routes.items():
                ip = route.session.peer_address
                if clients is not None and ip not in clients:
                    continue
                accepted, reasons, imported = proc.verdicts.get(prefix, {}).get(
                    key, (None, (), None))
                line = (f'{{"type": "adj-in", "client": {texts.of(route.session, peer_json)}, '
                        f'"prefix": "{prefix}", '
                        f'"attributes": {texts.attributes(route.attributes)}, '
                        f'"accepted": {json.dumps(accepted)}, '
                        f'"reasons": {json.dumps(reasons_json(reasons))}')
                if imported is not None and imported != route.attributes:
                    # as the import policy left it
                    line += f', "imported": {texts.attributes(imported)}'
                yield (_address_key(ip), prefix_key(prefix), key), line + "}"


def _decisions(rebuilt: list[Rebuilt], clients: set[str] | None) -> Iterator[Row]:
    # Written as text around the shared parts' cached JSON (render.JsonTexts): the same few
    # thousand routes are the best of most prefixes.
    texts = JsonTexts()
    for part in rebuilt:
        proc = part.processor
        for prefix, decision in proc.decisions.items():
            if clients is None:
                outcomes = ", ".join(
                    f'{{"client": "{o.client}", "route": {texts.route(o.route)}, '
                    f'"step": "{o.step}"}}' for o in decision.outcomes)
                yield (prefix_key(prefix),), (
                    f'{{"type": "decision", "prefix": "{prefix}", '
                    f'"best": {texts.route(decision.best)}, "step": "{decision.step}", '
                    f'"candidates": {decision.candidates}, "outcomes": [{outcomes}]}}')
                continue
            for ip in clients:
                peer = proc.export.peer(ip)
                if peer is None:
                    continue
                route, attributes = outcome_for(decision, peer)
                yield (prefix_key(prefix), _address_key(ip)), json.dumps({
                    "type": "decision", "prefix": prefix, "client": {"asn": peer.asn, "ip": ip},
                    "route": None if route is None else {
                        "from": peer_json(route.session),
                        "attributes": attributes_json(attributes)},
                    "step": step_for(decision, peer), "candidates": decision.candidates})


def _address_key(ip: str) -> tuple[int, int]:
    address = ipaddress.ip_address(ip)
    return address.version, int(address)


def _adj_out(out: AdjRibOut, clients: set[str] | None) -> Iterator[dict[str, Any]]:
    for rib in sorted(out.live(), key=lambda r: _address_key(r.session.peer_address)):
        if clients is not None and rib.session.peer_address not in clients:
            continue
        for prefix in sorted(rib.routes, key=prefix_key):
            sent = rib.routes[prefix]
            yield {"type": "adj-out", "client": peer_json(rib.session), "prefix": prefix,
                   "attributes": attributes_json(sent.attributes),
                   "sent_at": time_text(sent.time_us), "record": position_text(sent.position),
                   "caused_by": list(sent.caused_by)}
