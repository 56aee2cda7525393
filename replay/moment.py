"""What "the state at a moment" means, for every replay command. Pure.

A moment is a cut of every partition of the log: the events of a partition that a replay
applies are a prefix of it, in log (offset) order, never a selection by time. Two ways to
name it:

- **a time** (``--at``): each partition is cut at its first event *stamped later than the
  time*. The stamp is the event time its producer put in the header (``event_time_us``): the
  speaker stamps a received UPDATE when it read it from the socket, a sent UPDATE when it
  wrote it; ``ixrs load-rpki`` stamps its markers when it published them. A partition may
  hold events of several producers (a speaker, a second speaker, the loaders), whose clocks
  and delivery interleave; their order is the order the broker appended them. Cutting at the
  first later stamp keeps that order and makes the replayed state one the live system really
  passed through, never a mix of two. An event stamped before the time but appended after a
  later one is outside the moment, and its place in the log says why.
- **offsets** (``--offsets routes:3:1200,sent:0:55``): the partition is cut before that
  offset (a consumer's position: the first event not applied). Partitions not named are read
  to their end. Offsets come from the log itself: every Verdict and Decision names its input
  position, and ``explain --json`` prints the offsets it read.

Outputs (verdicts, decisions) are not cut by their own stamps: they belong to the moment of
the input position they name, which is how replay places a worker's answers however late the
worker gave them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ixrs import topics
from ixrs.errors import UsageError

TOPIC_SPECS = {spec.suffix: spec for spec in topics.ALL}


@dataclass(frozen=True)
class Moment:
    """A cut of the log: a time, or offsets per (topic suffix, partition)."""

    at_us: int | None = None
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def end(self, topic: str, partition: int) -> int | None:
        """The offset a partition is cut at, when the moment names one."""
        return self.offsets.get((topic, partition))

    def includes(self, topic: str, partition: int, offset: int, event: Any) -> bool:
        """Whether the event at this offset is before the cut. Call it in log order and stop
        at the first False: what follows is outside the moment too."""
        header = getattr(event, "header", None)
        return self.admits(topic, partition, offset,
                           None if header is None else header.event_time_us)

    def admits(self, topic: str, partition: int, offset: int, stamp_us: int | None) -> bool:
        """includes() for a record known by its offset and stamp only (read undecoded)."""
        end = self.offsets.get((topic, partition))
        if end is not None:
            return offset < end
        return self.at_us is None or stamp_us is None or stamp_us <= self.at_us

    def describe(self) -> str:
        if self.at_us is not None:
            from ixrs.timespec import format_time

            return format_time(self.at_us)
        return ",".join(f"{t}:{p}:{o}" for (t, p), o in sorted(self.offsets.items())) or "now"


NOW = Moment()


def parse_offsets(text: str) -> Moment:
    """``--offsets T:P:O,...``: T a topic name with or without the prefix (``routes`` or
    ``ixrs.routes``), P a partition, O the first offset not applied."""
    offsets: dict[tuple[str, int], int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        pieces = item.rsplit(":", 2)
        if len(pieces) != 3 or not pieces[1].isdigit() or not pieces[2].isdigit():
            raise UsageError(f"--offsets: {item!r} is not TOPIC:PARTITION:OFFSET")
        name, partition, offset = pieces[0], int(pieces[1]), int(pieces[2])
        suffix = next((s for s in TOPIC_SPECS if name == s or name.endswith("." + s)), None)
        if suffix is None:
            raise UsageError(f"--offsets: {item!r}: no topic {name!r} "
                             f"(one of {', '.join(sorted(TOPIC_SPECS))})")
        offsets[(suffix, partition)] = offset
    if not offsets:
        raise UsageError("--offsets: give at least one TOPIC:PARTITION:OFFSET")
    return Moment(offsets=offsets)


def cut(moment: Moment, topic: str, partition: int,
        records: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """The (offset, event) pairs of one partition before the moment's cut."""
    for offset, event in records:
        if not moment.includes(topic, partition, offset, event):
            return
        yield offset, event
