"""What one received UPDATE becomes in the log: pure, no Kafka.

One ``ReceivedRoutes`` event per (routes partition, attribute set) the UPDATE's
prefixes fall into, each bound for that partition, so that all events about a
prefix stay in one partition in receive order. Withdrawals travel in the same
events as announcements for their partition; an UPDATE treated as withdraw
(RFC 7606) withdraws its NLRI and says why in ``notes``.
"""

from __future__ import annotations

from collections.abc import Callable

from ixrs.topics import partition_for
from schemas.attributes import Attributes
from schemas.events import EventHeader, ReceivedRoutes, Session
from speaker.codec import Update


def notes_of(update: Update) -> tuple[str, ...]:
    return tuple(f"{n.action}: attribute {n.type_code}: {n.reason}" for n in update.notes)


def route_events(session: Session, update_seq: int, update: Update,
                 header: Callable[[], EventHeader],
                 partitions: int) -> list[tuple[int, ReceivedRoutes]]:
    """(partition, event) pairs for one UPDATE, in a deterministic order."""
    # partition -> (attribute set or None) -> (announced, withdrawn)
    buckets: dict[int, dict[Attributes | None, tuple[list[str], list[str]]]] = {}

    def bucket(partition: int, attrs: Attributes | None) -> tuple[list[str], list[str]]:
        by_attrs = buckets.setdefault(partition, {})
        if attrs not in by_attrs:
            by_attrs[attrs] = ([], [])
        return by_attrs[attrs]

    for attrs, prefixes in update.announced():
        for prefix in prefixes:
            bucket(partition_for(prefix, partitions), attrs)[0].append(prefix)
    for prefix in update.withdrawals():
        part = partition_for(prefix, partitions)
        by_attrs = buckets.get(part)
        # Ride along with an announcement bound for the same partition if there is one.
        target = next(iter(by_attrs.values())) if by_attrs else bucket(part, None)
        target[1].append(prefix)

    notes = notes_of(update)
    out = []
    for partition in sorted(buckets):
        for attrs, (announced, withdrawn) in buckets[partition].items():
            event = ReceivedRoutes(header(), session, update_seq, attrs if announced else None,
                                   tuple(announced), tuple(withdrawn), notes)
            out.append((partition, event))
    return out
