"""What one received UPDATE becomes in the log: pure, no Kafka.

One ``ReceivedRoutes`` event per (routes partition, attribute set) the UPDATE's
prefixes fall into, each bound for that partition, so that all events about a
prefix stay in one partition in receive order. Withdrawals travel in the same
events as announcements for their partition; an UPDATE treated as withdraw
(RFC 7606) withdraws its NLRI and says why in ``notes``. Partitions are
:func:`ixrs.topics.partition_for`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from schemas.attributes import Attributes
from schemas.events import EventHeader, ReceivedRoutes, Session
from speaker.codec import Update


def notes_of(update: Update) -> tuple[str, ...]:
    return tuple(f"{n.action}: attribute {n.type_code}: {n.reason}" for n in update.notes)


def route_events(session: Session, update_seq: int, update: Update,
                 header: Callable[[], EventHeader],
                 partitions: int) -> list[tuple[int, ReceivedRoutes]]:
    """(partition, event) pairs for one UPDATE, in a deterministic order."""
    # This runs for every prefix received: partition_for is inlined, and each
    # attribute set is hashed once per UPDATE, not once per prefix.
    crc32 = zlib.crc32
    groups: list[tuple[Attributes | None, dict[int, list[str]]]] = []
    for attrs, prefixes in update.announced():
        by_partition: dict[int, list[str]] = {}
        for prefix in prefixes:
            by_partition.setdefault(crc32(prefix.encode()) % partitions, []).append(prefix)
        groups.append((attrs, by_partition))
    withdrawn: dict[int, list[str]] = {}
    for prefix in update.withdrawals():
        withdrawn.setdefault(crc32(prefix.encode()) % partitions, []).append(prefix)

    notes = notes_of(update)
    out = []
    for partition in sorted({p for _a, by in groups for p in by} | withdrawn.keys()):
        # Withdrawals ride along with the first announcement bound for their partition.
        gone = tuple(withdrawn.get(partition, ()))
        for attrs, by_partition in groups:
            announced = by_partition.get(partition)
            if announced:
                out.append((partition, ReceivedRoutes(header(), session, update_seq, attrs,
                                                      tuple(announced), gone, notes)))
                gone = ()
        if gone:
            out.append((partition, ReceivedRoutes(header(), session, update_seq, None, (),
                                                  gone, notes)))
    return out
