"""The live status of ``ixrs run``.

Each role prints its counters as one machine-readable line on stdout, at most once per
second and only when they changed::

    status: speaker sessions_up=2 received=120 exported=37
    status: worker accepted=100 filtered=20

``ixrs run`` reads its children's stdout, relays every other line as it is, and folds
the ``status:`` lines into one line of its own (:class:`Board`)::

    status: sessions_up=2 received=120 accepted=100 filtered=20 exported=37

On a terminal that line is rewritten in place (``\\r``); otherwise it is printed as a plain
line at most every few seconds, when it changed, so that logs and scripts are not flooded.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO

PREFIX = "status: "
ROLE_INTERVAL = 1.0  # seconds between a role's status lines, at most
PLAIN_INTERVAL = 5.0  # seconds between run's status lines when stdout is not a terminal
FIELDS = ("sessions_up", "received", "accepted", "filtered", "exported")


def format_line(role: str, counters: Mapping[str, int]) -> str:
    return PREFIX + " ".join([role, *(f"{k}={v}" for k, v in counters.items())])


def parse_line(line: str) -> tuple[str, dict[str, int]] | None:
    """``(role, counters)`` of a role's status line, or None for any other line."""
    if not line.startswith(PREFIX):
        return None
    words = line[len(PREFIX):].split()
    if not words or "=" in words[0]:
        return None
    counters: dict[str, int] = {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        try:
            counters[key] = int(value)
        except ValueError:
            return None
    return words[0], counters


class Reporter:
    """A role's side: :meth:`poll` it often; it prints when due and changed."""

    def __init__(self, role: str, counters: Callable[[], Mapping[str, int]],
                 interval: float = ROLE_INTERVAL, out: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.role, self.counters, self.interval = role, counters, interval
        self.out, self.clock = out, clock
        self._last: dict[str, int] | None = None
        self._at = float("-inf")

    def poll(self) -> bool:
        now = self.clock()
        if now - self._at < self.interval:
            return False
        current = dict(self.counters())
        if current == self._last:
            return False
        self._last, self._at = current, now
        print(format_line(self.role, current), file=self.out or sys.stdout, flush=True)
        return True

    def run_in_thread(self, stop: threading.Event) -> threading.Thread:
        """Poll from a daemon thread until ``stop`` (for roles without an event loop of
        ours to hook into). Reading ints from the counters dict is safe without a lock."""
        def loop() -> None:
            while not stop.wait(self.interval / 4):
                self.poll()

        thread = threading.Thread(target=loop, name=f"{self.role}-status", daemon=True)
        thread.start()
        return thread


class Board:
    """``ixrs run``'s side: the children's latest counters, and its one status line."""

    def __init__(self) -> None:
        self._latest: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def update(self, child: str, counters: Mapping[str, int]) -> None:
        with self._lock:
            self._latest[child] = dict(counters)

    def totals(self) -> dict[str, int]:
        with self._lock:
            totals = dict.fromkeys(FIELDS, 0)
            for counters in self._latest.values():
                for key in FIELDS:
                    totals[key] += counters.get(key, 0)
            return totals

    def line(self) -> str:
        return PREFIX + " ".join(f"{k}={v}" for k, v in self.totals().items())


class Console:
    """``ixrs run``'s stdout: relayed lines, and the status line kept below them.

    On a terminal the status line stays at the bottom, rewritten in place; each relayed
    line first clears it. Elsewhere it is printed as an ordinary line, at most every
    ``plain_interval`` seconds and only when it changed."""

    def __init__(self, board: Board, out: IO[str] | None = None, tty: bool | None = None,
                 plain_interval: float = PLAIN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.board = board
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self.plain_interval, self.clock = plain_interval, clock
        self._lock = threading.Lock()
        self._shown = ""  # the status line on screen (terminal) or last printed (plain)
        self._at = float("-inf")

    def relay(self, line: str) -> None:
        with self._lock:
            if self.tty and self._shown:
                self.out.write("\r\x1b[K" + line + "\n" + self._shown)
            else:
                self.out.write(line + "\n")
            self.out.flush()

    def refresh(self) -> None:
        """Show the status line if due and changed; call it often."""
        line = self.board.line()
        with self._lock:
            if line == self._shown:
                return
            if self.tty:
                self.out.write("\r\x1b[K" + line)
            else:
                now = self.clock()
                if now - self._at < self.plain_interval:
                    return
                self._at = now
                self.out.write(line + "\n")
            self._shown = line
            self.out.flush()

    def close(self) -> None:
        """End the status line on a terminal, so that what follows starts on its own;
        elsewhere, print the final counts if they were not printed yet."""
        with self._lock:
            if self.tty and self._shown:
                self.out.write("\n")
                self.out.flush()
                self._shown = ""
            elif not self.tty and self._shown and self.board.line() != self._shown:
                self.out.write(self.board.line() + "\n")
                self.out.flush()
