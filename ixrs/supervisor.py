"""Keeps the processes of one ``ixrs`` command together and stops them together.

Ctrl-C, SIGTERM or any child dying ends the command; the broker is stopped
last, after the roles that use it. Children also die with us if we are killed
outright (``PR_SET_PDEATHSIG``, see :mod:`ixrs.embedded`).

The roles' stdout comes through us: their lines are relayed as they are, except their
``status:`` lines, which become our one live status line (:mod:`ixrs.status`).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType

from ixrs.embedded import EmbeddedBroker, die_with_parent
from ixrs.status import Board, Console, parse_line


class Supervisor:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._broker: EmbeddedBroker | None = None
        self._on_reload: Callable[[], None] | None = None
        self._previous: dict[int, object] = {}
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._last: set[str] = set()  # stopped after the others, before the broker
        self._readers: list[threading.Thread] = []
        self.board = Board()
        self.console = Console(self.board)

    def __enter__(self) -> Supervisor:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._request_stop)
        self._previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._request_reload)
        return self

    def __exit__(self, *exc: object) -> None:
        first = {n: c for n, c in self._children.items() if n not in self._last}
        self._stop_children(first, 15)
        # The archiver copies what the other roles wrote until they stopped: its drain to
        # the end of the log may take a while behind a fast writer.
        self._stop_children({n: c for n, c in self._children.items() if n in self._last}, 120)
        for reader in self._readers:
            reader.join(5)  # the children are gone: their pipes are at their end
        self.console.close()
        if self._broker is not None:
            self._broker.stop()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    @staticmethod
    def _stop_children(children: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for name, child in children.items():
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"ixrs: {name} did not stop in time; killing it", file=sys.stderr)
                child.kill()
                child.wait()

    def _request_stop(self, _sig: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def _request_reload(self, _sig: int, _frame: FrameType | None) -> None:
        self._reload.set()

    def start_broker(self, broker: EmbeddedBroker) -> None:
        broker.start()
        self._broker = broker

    def spawn(self, name: str, argv: list[str], last: bool = False) -> None:
        """Start a role as a child process that dies with us; one started ``last`` is
        stopped after the others (and before the broker)."""
        # Its own process group, as the broker's: terminal signals reach ixrs only, which
        # passes them on in order (roles first, then the broker).
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 preexec_fn=die_with_parent, process_group=0)
        self._children[name] = child
        if last:
            self._last.add(name)
        reader = threading.Thread(target=self._relay, args=(name, child), daemon=True,
                                  name=f"{name} stdout")
        reader.start()
        self._readers.append(reader)

    def _relay(self, name: str, child: subprocess.Popen[bytes]) -> None:
        """Until the child's stdout ends: relay its lines, fold its status lines. Never
        stops reading early, so that a child never blocks on a full pipe."""
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            try:
                status = parse_line(line)
                if status is not None:
                    self.board.update(name, status[1])
                else:
                    self.console.relay(line)
            except (OSError, ValueError):  # our stdout closed (a pipe reader gone): drain
                pass

    def say(self, line: str) -> None:
        """A line of our own on stdout, among the relayed ones."""
        self.console.relay(line)

    def on_reload(self, callback: Callable[[], None]) -> None:
        self._on_reload = callback

    def stop(self) -> None:
        self._stop.set()

    def wait(self) -> int:
        """Until a stop is asked for (exit 0) or a child dies (exit 1)."""
        while not self._stop.wait(0.5):
            self.console.refresh()
            if self._broker is not None and not self._broker.alive():
                print("ixrs: error: the embedded broker exited", file=sys.stderr)
                return 1
            for name, child in self._children.items():
                if child.poll() is not None:
                    print(f"ixrs: error: the {name} exited with code {child.returncode}",
                          file=sys.stderr)
                    return 1
            if self._reload.is_set():
                self._reload.clear()
                self._do_reload()
        return 0

    def _do_reload(self) -> None:
        for child in self._children.values():
            child.send_signal(signal.SIGHUP)  # `run` passes SIGHUP on to its roles
        if self._on_reload is None:
            return
        try:
            self._on_reload()
        except Exception as err:  # a bad new config must not stop a running route server
            print(f"ixrs: error: reload failed, keeping the running configuration: {err}",
                  file=sys.stderr)
