"""Small test helpers: waiting on conditions with a deadline, never sleeping blindly."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    try:
        with open(path) as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def kill_quietly(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def per_update(events: list[object]) -> list[object]:
    """The log's events with each ``ReceivedUpdates`` as its parts, one ``ReceivedRoutes``
    per (UPDATE, partition), and each ``RawUpdates`` as one ``RawUpdate`` per message, in
    order: what tests about single UPDATEs compare, whatever the speaker batched together.
    Other events pass through."""
    from schemas.events import RawUpdate, RawUpdates, ReceivedRoutes, ReceivedUpdates

    out: list[object] = []
    for event in events:
        if isinstance(event, ReceivedUpdates):
            out += [ReceivedRoutes(event.header, event.session, p.update_seq, p.attributes,
                                   p.announced, p.withdrawn, p.notes) for p in event.parts]
        elif isinstance(event, RawUpdates):
            out += [RawUpdate(event.header, event.session, event.first_seq + i, raw)
                    for i, raw in enumerate(event.messages)]
        else:
            out.append(event)
    return out
