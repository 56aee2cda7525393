"""A routes partition rebuilt up to a moment, by the workers' own code.

Every routes partition goes through a :class:`~processors.partition.PartitionProcessor`,
as the worker that owned it did, from the partition's first event up to the moment's cut:
the Adj-RIB-In, every route's outcome and every decision come out of the same pure
functions, with the configuration and data-set versions the partition's markers bring into
force at the same places. Nothing is read from the verdicts and decisions topics here:
``--verify`` compares the two.

Which configuration judges the events before a partition's first configuration marker?
The one that marker names. A worker publishes its configuration (and the markers) before it
consumes anything, and judges what comes before the marker with that same configuration;
a partition with no marker at all was judged by the last version published before the
moment.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ixrs import topics
from ixrs.eventlog import Stamper
from processors.partition import Output, PartitionProcessor, SharedCaches
from replay.history import History
from replay.moment import Moment
from replay.progress import Progress
from replay.source import LogSource
from schemas.events import DataSetMarker, Position, ReceivedRoutes, ReceivedUpdates

# (record value, event class) -> whether to decode and apply it; others are skipped whole
Keep = Callable[[bytes, type | None], bool]
# (offset, decoded event) -> the event to apply (explain narrows routes events to a prefix)
Narrow = Callable[[int, Any], Any]
OnOutput = Callable[[Position, Output], None]

ROUTE_EVENTS = (ReceivedUpdates, ReceivedRoutes)


@dataclass
class Rebuilt:
    """One routes partition at the moment."""

    partition: int
    processor: PartitionProcessor
    end: int = 0  # the first offset not applied: the cut
    start: int = 0  # with since_us: the first offset of the period
    events: int = 0
    config_versions: list[str] = field(default_factory=list)  # in force, in order


def rebuild_partition(source: LogSource, history: History, partition: int, moment: Moment,
                      *, caches: SharedCaches | None = None, keep: Keep | None = None,
                      narrow: Narrow | None = None, on_output: OnOutput | None = None,
                      progress: Progress | None = None, final_only: bool = False,
                      since_us: int | None = None) -> Rebuilt:
    """The partition at the moment. ``final_only``: only the state at the cut is wanted, not
    the outputs on the way, so each prefix is decided once, at the end (see _Settling).
    ``since_us``: ``on_output`` hears only of the outputs of events from the first one
    stamped later than this (a period's start, cut as a moment is); ``Rebuilt.start`` is
    that event's offset."""
    topic = topics.ROUTES.name(source.prefix)
    records = _decoded(source, partition, keep, narrow)
    ahead: list[tuple[int, Any]] = []
    first = None
    for offset, event in records:  # up to the first configuration marker: see the module doc
        ahead.append((offset, event))
        if isinstance(event, DataSetMarker) and event.kind == topics.CONFIG_MARKER:
            first = event.version
            break
    version = first or history.version_at(moment)
    start = history.policies(version)
    kind = _Settling if final_only else PartitionProcessor
    proc = kind(partition, start.imports, history.dataset, Stamper("replay"), start.exports,
                history.policies, caches=caches if caches is not None else SharedCaches())
    rebuilt = Rebuilt(partition, proc, config_versions=[version])
    started = since_us is None
    for offset, event in itertools.chain(ahead, records):
        if not moment.includes(topics.ROUTES.suffix, partition, offset, event):
            break
        rebuilt.end = offset + 1
        rebuilt.events += 1
        if not started and event.header.event_time_us > since_us:  # type: ignore[operator]
            started, rebuilt.start = True, offset
        if isinstance(event, _Skipped):
            continue  # it cannot concern the question asked (see `keep`)
        position = Position(topic, partition, offset)
        outputs = proc.handle(position, event)
        if on_output is not None and started:
            for out in outputs:
                on_output(position, out)
        if isinstance(event, DataSetMarker) and event.kind == topics.CONFIG_MARKER \
                and event.version != rebuilt.config_versions[-1]:
            rebuilt.config_versions.append(event.version)
        if progress is not None:
            progress.add(event)
    if not started:
        rebuilt.start = rebuilt.end  # nothing in the period
    if isinstance(proc, _Settling):
        proc.settle()
    return rebuilt


class _Settling(PartitionProcessor):
    """A processor that decides each prefix once, at the end.

    A decision is a pure function of the prefix's candidates and the export policy in force,
    so deciding every changed prefix once after the last event gives the decisions in force
    at the cut, as deciding after every event would; what is saved is the decisions in
    between (two of three for a prefix three clients announce). Verdicts are still given
    event by event: they depend on the data sets in force at each event."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.pending: set[str] = set()

    def _decide(self, position: Position, prefixes: set[str]) -> list[Output]:
        self.pending |= prefixes
        return []

    def settle(self) -> None:
        # The decisions in force, as _decide() leaves them, without the Decision events it
        # would write (nobody reads them here: a third of the cost of settling a table).
        offers, decisions, decision_of = self.offers, self.decisions, self._decision
        for prefix in self.pending:
            candidates = offers.get(prefix)
            if candidates:
                decisions[prefix] = decision_of(prefix, candidates)
            else:
                decisions.pop(prefix, None)
        self.dirty |= self.pending
        self.pending = set()


class _Skipped:
    """A record left undecoded; only its header is read, for a time cut."""

    __slots__ = ("header",)

    def __init__(self, header: Any) -> None:
        self.header = header


def _decoded(source: LogSource, partition: int, keep: Keep | None,
             narrow: Narrow | None) -> Iterator[tuple[int, Any]]:
    """(offset, event) of the whole partition; a _Skipped for a record `keep` turns down,
    so that the cut still sees every offset."""
    framing = source.framing
    decode = framing.decode
    for offset, value in source.records(topics.ROUTES, partition):
        if keep is not None and not keep(value, framing.event_class(value)):
            yield offset, _Skipped(framing.header(value))
            continue
        event = decode(value)
        yield offset, narrow(offset, event) if narrow is not None else event
