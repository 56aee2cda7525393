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

import ipaddress
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter
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
    prefix_rank,
    reasons_json,
    time_text,
)
from replay.source import LogSource, events
from schemas.events import Position

WHAT = ("adj-in", "decisions", "adj-out")


Row = tuple[Any, str]  # (sort key, JSON line)
# A process's rows of one kind, sorted: their keys, and their lines as UTF-8 (bytes cross from
# a replay process without a decode, and the parent writes them as they are). The parent's
# merge of the processes' shares is then one sort of presorted runs.
Sorted = tuple[list[Any], list[bytes]]
BLOCK = 2000  # lines a block of replay_blocks: one write, not one per line


def replay_lines(source: LogSource, moment: Moment, what: tuple[str, ...],
                 clients: set[str] | None, progress: Progress | None = None,
                 jobs: int | None = None) -> Iterator[str]:
    """The state at the moment as JSON lines: adj-in, then decisions, then adj-out, each
    sorted by client and prefix. Routes partitions are replayed in parallel
    (:mod:`replay.parallel`), the sent topic meanwhile in this process."""
    for kind in _replay(source, moment, what, clients, progress, jobs):
        if isinstance(kind, list):
            yield from (line.decode() for line in kind)
        else:
            yield from kind


def replay_blocks(source: LogSource, moment: Moment, what: tuple[str, ...],
                  clients: set[str] | None, progress: Progress | None = None,
                  jobs: int | None = None) -> Iterator[bytes]:
    """replay_lines' lines as UTF-8, each ending in a newline, a few thousand to a block:
    what ``ixrs replay`` writes, with no str made and no write per line."""
    for kind in _replay(source, moment, what, clients, progress, jobs):
        yield from _blocks(kind)


def _blocks(lines: list[bytes] | Iterator[str], size: int = BLOCK) -> Iterator[bytes]:
    """The lines, each ending in a newline, ``size`` to a block, as UTF-8."""
    if isinstance(lines, list):
        for at in range(0, len(lines), size):
            yield b"\n".join(lines[at:at + size]) + b"\n"
    else:
        while block := list(islice(lines, size)):
            yield ("\n".join(block) + "\n").encode()


def _replay(source: LogSource, moment: Moment, what: tuple[str, ...],
            clients: set[str] | None, progress: Progress | None,
            jobs: int | None) -> Iterator[list[bytes] | Iterator[str]]:
    """Each kind's lines in order: the routes kinds' as a list of UTF-8 lines, adj-out's as
    they are made."""
    count = source.partitions(topics.ROUTES)
    if progress is not None:
        progress.parts = count

    def task(partitions: list[int], progress: Progress | None) -> dict[str, Sorted]:
        history = History(source)  # each process reads the configuration with its own client
        caches = SharedCaches()  # as in a worker: memos shared by the partitions
        rebuilt = []
        for partition in partitions:
            rebuilt.append(rebuild_partition(source, history, partition, moment, caches=caches,
                                             progress=progress, final_only=True))
            if progress is not None:
                progress.done_parts += 1
        rows: dict[str, Sorted] = {}
        if "adj-in" in what:
            rows["adj-in"] = _sorted(_adj_in(rebuilt, clients))
        if "decisions" in what:
            rows["decisions"] = _sorted(_decisions(rebuilt, clients))
        return rows

    needs_routes = "adj-in" in what or "decisions" in what
    results, out = parallel.run(
        task, list(range(count)) if needs_routes else [], parallel.jobs_for(count), progress,
        meanwhile=(lambda: rebuild_out(source, moment)) if "adj-out" in what else None)
    for kind in ("adj-in", "decisions"):
        if kind in what:
            yield _merged([r[kind] for r in results])
    if out is not None:
        yield _adj_out(out, clients)


def _sorted(rows: Iterable[Row]) -> Sorted:
    # By key alone, which is the order of whole rows: no two rows share a key (a prefix is
    # in one partition, and has one row, or one a client and route). Comparing keys, not
    # (key, line) tuples, takes a third less time.
    ordered = sorted(rows, key=itemgetter(0))
    return [key for key, _line in ordered], [line.encode() for _key, line in ordered]


def _merged(shares: list[Sorted]) -> list[bytes]:
    """The lines of every share in key order."""
    if len(shares) == 1:
        return shares[0][1]
    keys = [key for share_keys, _lines in shares for key in share_keys]
    lines = [line for _keys, share_lines in shares for line in share_lines]
    # sorted() finds the presorted runs and merges them, comparing keys only (in C), and
    # keeps the shares' order among equal keys
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [lines[i] for i in order]


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
    # an outcome's reasons are one tuple shared by its group's prefixes (and often by the
    # groups of the same attribute set): their text is made once per tuple
    verdicts: dict[tuple[object, int], tuple[object, str]] = {}
    addresses: dict[str, tuple[int, int]] = {}  # a client's sort key, by its address
    for part in rebuilt:
        proc = part.processor
        for prefix, routes in proc.rib.routes.items():
            for key, route in routes.items():
                ip = route.session.peer_address
                if clients is not None and ip not in clients:
                    continue
                accepted, reasons, imported = proc.verdicts.get(prefix, {}).get(
                    key, (None, (), None))
                told = verdicts.get((accepted, id(reasons)))
                if told is None or told[0] is not reasons:
                    if len(verdicts) >= JsonTexts.LIMIT:
                        verdicts.clear()
                    told = verdicts[(accepted, id(reasons))] = (reasons, (
                        f'"accepted": {json.dumps(accepted)}, '
                        f'"reasons": {json.dumps(reasons_json(reasons))}'))
                line = (f'{{"type": "adj-in", "client": {texts.of(route.session, peer_json)}, '
                        f'"prefix": "{prefix}", '
                        f'"attributes": {texts.attributes(route.attributes)}, {told[1]}')
                if imported is not None and imported != route.attributes:
                    # as the import policy left it
                    line += f', "imported": {texts.attributes(imported)}'
                where = addresses.get(ip)
                if where is None:
                    where = addresses[ip] = _address_key(ip)
                yield (where, prefix_rank(prefix), key), line + "}"


def _decisions(rebuilt: list[Rebuilt], clients: set[str] | None) -> Iterable[Row]:
    if clients is None:
        return _best_decisions(rebuilt)
    return _client_decisions(rebuilt, clients)


def _best_decisions(rebuilt: list[Rebuilt]) -> list[Row]:
    # Written as text around the shared parts' cached JSON (render.JsonTexts): the same few
    # thousand routes are the best of most prefixes.
    texts = JsonTexts()
    # The text after the prefix, by the decision's shared parts: prefixes with the same
    # candidates share their best route and outcomes (the processors memoise decisions by
    # candidate set), so most lines differ from another only by their prefix. Keyed by
    # identity and checked, as JsonTexts is; a table has a few thousand of them.
    tails: dict[tuple[int, int, str, int], tuple[object, object, str]] = {}
    rows: list[Row] = []
    append = rows.append  # once per prefix of the table: a list, not a generator's yields
    for part in rebuilt:
        for prefix, decision in part.processor.decisions.items():
            best, outcomes = decision.best, decision.outcomes
            step, candidates = decision.step, decision.candidates
            key = (id(best), id(outcomes), step, candidates)
            hit = tails.get(key)
            if hit is None or hit[0] is not best or hit[1] is not outcomes:
                if len(tails) >= JsonTexts.LIMIT:
                    tails.clear()
                listed = ", ".join(
                    f'{{"client": "{o.client}", "route": {texts.route(o.route)}, '
                    f'"step": "{o.step}"}}' for o in outcomes)
                hit = tails[key] = (best, outcomes, (
                    f'"best": {texts.route(best)}, "step": "{step}", '
                    f'"candidates": {candidates}, "outcomes": [{listed}]}}'))
            append((prefix_rank(prefix), f'{{"type": "decision", "prefix": "{prefix}", {hit[2]}'))
    return rows


def _client_decisions(rebuilt: list[Rebuilt], clients: set[str]) -> Iterator[Row]:
    for part in rebuilt:
        proc = part.processor
        for prefix, decision in proc.decisions.items():
            for ip in clients:
                peer = proc.export.peer(ip)
                if peer is None:
                    continue
                route, attributes = outcome_for(decision, peer)
                yield (prefix_rank(prefix), _address_key(ip)), json.dumps({
                    "type": "decision", "prefix": prefix, "client": {"asn": peer.asn, "ip": ip},
                    "route": None if route is None else {
                        "from": peer_json(route.session),
                        "attributes": attributes_json(attributes)},
                    "step": step_for(decision, peer), "candidates": decision.candidates})


def _address_key(ip: str) -> tuple[int, int]:
    address = ipaddress.ip_address(ip)
    return address.version, int(address)


def _adj_out(out: AdjRibOut, clients: set[str] | None) -> Iterator[str]:
    # The text after the prefix is that of the SentRoute, which the prefixes of one UPDATE
    # share: made once per UPDATE, keyed by identity and checked (render.JsonTexts).
    texts = JsonTexts()
    tails: dict[int, tuple[object, str]] = {}
    for rib in sorted(out.live(), key=lambda r: _address_key(r.session.peer_address)):
        if clients is not None and rib.session.peer_address not in clients:
            continue
        head = f'{{"type": "adj-out", "client": {json.dumps(peer_json(rib.session))}, "prefix": '
        routes = rib.routes
        for prefix in sorted(routes, key=prefix_rank):
            sent = routes[prefix]
            hit = tails.get(id(sent))
            if hit is None or hit[0] is not sent:
                if len(tails) >= JsonTexts.LIMIT:
                    tails.clear()
                hit = tails[id(sent)] = (sent, (
                    f', "attributes": {texts.attributes(sent.attributes)}, '
                    f'"sent_at": {json.dumps(time_text(sent.time_us))}, '
                    f'"record": {json.dumps(position_text(sent.position))}, '
                    f'"caused_by": {json.dumps(list(sent.caused_by))}}}'))
            yield f'{head}{json.dumps(prefix)}{hit[1]}'
