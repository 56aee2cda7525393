"""The progress line of long replays: events read, events per second, on stderr.

Quiet for the first two seconds (short replays print nothing), then one line a second: on
a terminal rewritten in place, elsewhere (logs, CI) one line each time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from schemas.events import ReceivedRoutes, ReceivedUpdates

QUIET_FOR = 2.0
EVERY = 1.0


class Progress:
    def __init__(self, what: str, stream: TextIO | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.shown = self.started + QUIET_FOR - EVERY
        self.events = 0
        self.prefixes = 0
        self.done_parts = 0
        self.parts = 0
        self._printed = False
        self.finished = False

    def add(self, event: object) -> None:
        self.events += 1
        if isinstance(event, ReceivedUpdates):
            for part in event.parts:
                self.prefixes += len(part.announced) + len(part.withdrawn)
        elif isinstance(event, ReceivedRoutes):
            self.prefixes += len(event.announced) + len(event.withdrawn)
        if self.events & 63 == 0:
            self.tick()

    def tick(self) -> None:
        now = self.clock()
        if now - self.shown >= EVERY:
            self.shown = now
            self._show(now)

    def _show(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        tty = self.stream.isatty()
        line = (f"{self.what}: {self.events:,} events, {self.prefixes:,} prefixes, "
                f"{self.events / elapsed:,.0f} events/s, {self.prefixes / elapsed:,.0f} "
                f"prefixes/s" + (f", partition {self.done_parts}/{self.parts}"
                                 if self.parts else ""))
        self.stream.write(("\r" + line + "\x1b[K") if tty else line + "\n")
        self.stream.flush()
        self._printed = True

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self._printed:
            self._show(self.clock())
            if self.stream.isatty():
                self.stream.write("\n")
            self.stream.flush()

    def rate(self) -> float:
        """Prefixes per second so far."""
        return self.prefixes / max(self.clock() - self.started, 1e-9)
