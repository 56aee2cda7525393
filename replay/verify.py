"""``ixrs replay --verify``: the live system's answers, recomputed from the log and compared.

For a period (from, to] of event time:

- **Verdicts and decisions.** Every routes partition is rebuilt from its start by the
  workers' own code (:mod:`replay.rebuild`), and the outputs of its inputs within the period
  are compared with the recorded ones in the verdicts and decisions topics, by event id: an
  output's id names the input position that caused it, so both sides agree on what to
  compare whatever the worker's timing. Headers are not compared (who wrote it, when, its
  sequence number), except the configuration version.
- **Sent updates.** Every message sent to a client within the period names, per prefix, the
  decision that caused it. The prefix's route in the message must be what that recorded
  decision gives the client (`processors.views.outcome_for`), with the attributes the export
  policy makes; a withdrawal must follow a decision that gives the client nothing.

Recognisable duplicates are not divergences: a worker killed before it saved its state
processes some inputs again and writes their outputs again, under the same ids and with the
same content. Anything else is a divergence, reported with the offsets of both sides:

- ``differs``: a recorded output with the id of a recomputed one but another content;
- ``missing``: recomputed, never recorded (the live system did not give this answer);
- ``unexpected``: recorded, but the recomputation gives no such output;
- ``sent-differs``, ``sent-without-cause``: a sent route that its decision does not give.

Inputs whose outputs were never recorded because the worker has not reached them yet are
reported as ``missing`` too: verify a period the workers have finished.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ixrs import topics
from processors.partition import Output, SharedCaches
from processors.views import outcome_for
from replay import parallel
from replay.adjout import SessionBook
from replay.history import History
from replay.moment import Moment
from replay.progress import Progress
from replay.rebuild import rebuild_partition
from replay.render import attributes_json, position_text
from replay.source import LogSource, events
from replay.state import session_book
from schemas.decisions import per_prefix
from schemas.events import Decision, EventHeader, Position, SentUpdate, Verdict
from speaker.codec.decode import decode
from speaker.codec.messages import Update


@dataclass(frozen=True)
class Divergence:
    kind: str
    where: str  # topic:partition:offset of the recorded event, or of the input
    input: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"divergence": self.kind, "record": self.where, "input": self.input,
                "detail": self.detail}


@dataclass
class Verification:
    divergences: list[Divergence] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=lambda: {
        "verdicts": 0, "decisions": 0, "sent": 0, "duplicates": 0})

    @property
    def clean(self) -> bool:
        return not self.divergences


def verify(source: LogSource, from_us: int, to_us: int,
           progress: Progress | None = None) -> Verification:
    history = History(source)
    # The sent records first: the decisions they name are the ones the partitions keep.
    sent = _sent_in(source, from_us, to_us)
    needed = {cause for _where, event in sent for cause in event.caused_by}
    count = source.partitions(topics.ROUTES)
    if progress is not None:
        progress.parts = count

    def task(partitions: list[int], progress: Progress | None
             ) -> tuple[Verification, dict[str, Decision]]:
        mine = History(source)  # each process reads the log with its own clients
        result = Verification()
        caches = SharedCaches()
        named: dict[str, Decision] = {}
        for partition in partitions:
            _verify_partition(source, mine, partition, from_us, to_us, caches, result,
                              named, needed, progress)
            if progress is not None:
                progress.done_parts += 1
        return result, named

    parts, _ = parallel.run(task, list(range(count)), parallel.jobs_for(count), progress)
    result = Verification()
    decisions: dict[str, Decision] = {}
    for part, named in parts:
        result.divergences += part.divergences
        for key, value in part.compared.items():
            result.compared[key] += value
        decisions.update(named)
    book = session_book(source, Moment(at_us=to_us))
    for where, event in sent:
        result.compared["sent"] += 1
        result.divergences.extend(_check_sent(event, where, history, book, decisions))
    return result


def _verify_partition(source: LogSource, history: History, partition: int, from_us: int,
                      to_us: int, caches: SharedCaches, result: Verification,
                      named: dict[str, Decision], needed: set[str],
                      progress: Progress | None) -> None:
    recomputed: dict[str, tuple[Position, Any]] = {}

    def on_output(position: Position, out: Output) -> None:
        for made in per_prefix(out.event):  # a pass's Decisions, prefix by prefix
            recomputed[made.event_id] = (position, made)

    rebuilt = rebuild_partition(source, history, partition, Moment(at_us=to_us), caches=caches,
                                on_output=on_output, progress=progress, since_us=from_us)
    start = rebuilt.start
    routes = topics.ROUTES.name(source.prefix)
    recorded: dict[str, list[tuple[str, Any]]] = {}
    for spec in (topics.VERDICTS, topics.DECISIONS):
        name = spec.name(source.prefix)
        for offset, event in events(source, spec, partition):
            if isinstance(event, Decision) and event.event_id in needed:
                named[event.event_id] = event
            if not isinstance(event, Verdict | Decision):
                continue
            where = event.input
            if where.topic != routes or where.partition != partition \
                    or not start <= where.offset < rebuilt.end:
                continue  # another partition's input, or outside the period
            recorded.setdefault(event.event_id, []).append((f"{name}:{partition}:{offset}",
                                                            event))
    for event_id, copies in recorded.items():
        found = recomputed.pop(event_id, None)
        first_where, first = copies[0]
        if found is None:
            result.divergences.append(Divergence(
                "unexpected", first_where, position_text(first.input),
                f"{type(first).__name__} {event_id}: recorded, but the log does not give it"))
            continue
        expected = _content(found[1])
        result.compared["verdicts" if isinstance(first, Verdict) else "decisions"] += 1
        result.compared["duplicates"] += sum(_content(c) == expected for _w, c in copies) - 1
        for where, copy in copies:
            if _content(copy) != expected:
                result.divergences.append(Divergence(
                    "differs", where, position_text(copy.input),
                    f"{type(copy).__name__} {event_id}: {_difference(copy, found[1])}"))
    for event_id, (position, event) in recomputed.items():
        result.divergences.append(Divergence(
            "missing", f"{topics.VERDICTS.suffix if isinstance(event, Verdict) else 'decisions'}"
            f":{partition}", position_text(position),
            f"{type(event).__name__} {event_id}: the log gives it, it was never recorded"))


_NO_HEADER = EventHeader("", 0, 0)


def _content(event: Any) -> Any:
    """What is compared: everything but who wrote the event, when, and its sequence."""
    return replace(event, header=replace(_NO_HEADER, config_version=event.header.config_version))


def _difference(recorded: Any, recomputed: Any) -> str:
    a, b = _content(recorded), _content(recomputed)
    fields = [f for f in a.__dataclass_fields__ if getattr(a, f) != getattr(b, f)]
    name = fields[0] if fields else "?"
    return (f"{', '.join(fields)} differ; recorded {name}={getattr(a, name, None)!r}, "
            f"recomputed {getattr(b, name, None)!r}")[:600]


def _sent_in(source: LogSource, from_us: int, to_us: int) -> list[tuple[str, SentUpdate]]:
    """The UPDATEs sent within the period, with where each is recorded."""
    name = topics.SENT.name(source.prefix)
    found = []
    for partition in range(source.partitions(topics.SENT)):
        for offset, event in events(source, topics.SENT, partition):
            if not isinstance(event, SentUpdate) or event.kind != "update":
                continue
            when = event.header.event_time_us
            if when > to_us:
                break
            if when > from_us:
                found.append((f"{name}:{partition}:{offset}", event))
    return found


def _check_sent(event: SentUpdate, where: str, history: History, book: SessionBook,
              decisions: dict[str, Decision]) -> Iterator[Divergence]:
    message = decode(event.raw, book.negotiated(event.session))
    if not isinstance(message, Update):
        return
    causes = {cause.split("/", 1)[1]: cause for cause in event.caused_by if "/" in cause}
    version = event.header.config_version or history.versions()[-1][1]
    peer = history.policies(version).exports.peer(event.session.peer_address)
    sent: dict[str, Any] = {p: None for p in message.withdrawals()}
    for attributes, prefixes in message.announced():
        for prefix in prefixes:
            sent[prefix] = attributes
    for prefix, attributes in sent.items():
        cause = causes.get(prefix)
        decision = decisions.get(cause) if cause else None
        if decision is None or peer is None:
            yield Divergence("sent-without-cause", where, cause or "",
                             f"{prefix}: the message names no recorded decision for it"
                             if peer is not None else
                             f"{event.session.peer_address} is not a client of configuration "
                             f"{version[:12]}")
            continue
        _route, expected = outcome_for(decision, peer)
        if expected != attributes:
            yield Divergence("sent-differs", where, cause or "",
                             f"{prefix}: {_compared(attributes, expected)}")


def _compared(sent: Any, expected: Any) -> str:
    if sent is None:
        return "withdrawn, but its decision gives the client a route"
    if expected is None:
        return "announced, but its decision gives the client nothing"
    a, b = attributes_json(sent) or {}, attributes_json(expected) or {}
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "; ".join(f"{k} sent {a.get(k)!r}, its decision gives {b.get(k)!r}" for k in keys)
