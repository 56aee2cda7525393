"""What received UPDATEs become in the log: pure, no Kafka.

The UPDATEs of one socket read of a session become one ``ReceivedUpdates`` event per
routes partition their prefixes fall into, so that all events about a prefix stay in one
partition in receive order, and a table arriving in many small UPDATEs costs few events
(the cost of an event, at every stage, is far above the cost of a prefix in it). Each
UPDATE contributes one part per (partition, attribute set); withdrawals ride with the
first announcement part of their partition. An UPDATE treated as withdraw (RFC 7606)
withdraws its NLRI and says why in ``notes``. Partitions are
:func:`ixrs.topics.partition_for`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from schemas.attributes import Attributes
from schemas.decoder import constructor
from schemas.events import EventHeader, ReceivedRoutes, ReceivedUpdates, Session, UpdatePart
from speaker.codec import Update

# UpdatePart(...) without the frozen dataclass's __init__ (schemas.decoder.constructor): an
# UPDATE of a table's makes one part per partition it touches, about one per two prefixes.
_part = constructor(UpdatePart)


def notes_of(update: Update) -> tuple[str, ...]:
    if not update.notes:  # almost always: once per UPDATE received
        return ()
    return tuple(f"{n.action}: attribute {n.type_code}: {n.reason}" for n in update.notes)


def received_events(session: Session, updates: list[tuple[int, Update]],
                    header: Callable[[], EventHeader],
                    partitions: int) -> list[tuple[int, ReceivedUpdates]]:
    """(partition, event) pairs for the numbered UPDATEs of one read, by partition."""
    by_partition: dict[int, list[UpdatePart]] = {}
    for update_seq, update in updates:
        for partition, part in update_parts(update_seq, update, partitions):
            by_partition.setdefault(partition, []).append(part)
    return [(partition, ReceivedUpdates(header(), session, tuple(parts)))
            for partition, parts in sorted(by_partition.items())]


def route_events(session: Session, update_seq: int, update: Update,
                 header: Callable[[], EventHeader],
                 partitions: int) -> list[tuple[int, ReceivedRoutes]]:
    """One UPDATE as ``ReceivedRoutes`` events, the form of logs written before
    ``ReceivedUpdates``: tests and benchmarks still write it, workers still read it."""
    return [(partition, ReceivedRoutes(header(), session, part.update_seq, part.attributes,
                                       part.announced, part.withdrawn, part.notes))
            for partition, part in update_parts(update_seq, update, partitions)]


def update_parts(update_seq: int, update: Update,
                 partitions: int) -> list[tuple[int, UpdatePart]]:
    """(partition, part) pairs for one UPDATE, in a deterministic order."""
    # This runs for every prefix received: partition_for is inlined, and each
    # attribute set is hashed once per UPDATE, not once per prefix.
    crc32 = zlib.crc32
    groups: list[tuple[Attributes | None, dict[int, list[str]]]] = []
    for attrs, prefixes in update.announced():
        by_partition: dict[int, list[str]] = {}
        for prefix in prefixes:
            partition = crc32(prefix.encode()) % partitions
            found = by_partition.get(partition)  # not setdefault: it builds a list per prefix
            if found is None:
                by_partition[partition] = [prefix]
            else:
                found.append(prefix)
        groups.append((attrs, by_partition))
    withdrawn: dict[int, list[str]] = {}
    for prefix in update.withdrawals():
        withdrawn.setdefault(crc32(prefix.encode()) % partitions, []).append(prefix)

    notes = notes_of(update)
    out: list[tuple[int, UpdatePart]] = []
    for partition in sorted({p for _a, by in groups for p in by} | withdrawn.keys()):
        # Withdrawals ride along with the first announcement bound for their partition.
        gone = tuple(withdrawn.get(partition, ()))
        for attrs, by_partition in groups:
            announced = by_partition.get(partition)
            if announced:
                out.append((partition, _part(update_seq, attrs, tuple(announced), gone, notes)))
                gone = ()
        if gone:
            out.append((partition, _part(update_seq, None, (), gone, notes)))
    return out
