"""A daemon process run in a Host and controlled by its PID, never by its name."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.lab.netns import Host


class Daemon:
    """One run of a program; stdout and stderr go to `log_path` for post-mortems."""

    def __init__(
        self,
        host: Host,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.host = host
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._frozen = False

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.argv[0]} is not started")
        return self._proc.pid

    def start(self) -> None:
        if self.running():
            raise RuntimeError(f"{self.argv[0]} already runs as PID {self.pid}")
        env = {**os.environ, **self.env} if self.env is not None else None
        with open(self.log_path, "ab") as log:
            self._proc = self.host.popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        self._frozen = False

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`; a frozen daemon is thawed so it can exit."""
        if not self.running():
            self._reap()
            return
        assert self._proc is not None
        self._signal(signal.SIGTERM)
        if self._frozen:
            self.thaw()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
        self._reap()

    def freeze(self) -> None:
        """SIGSTOP: the TCP session stays open but nothing is sent, so hold timers run out."""
        self._signal(signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)
        self._frozen = False

    def kill9(self) -> None:
        """SIGKILL: a crash; the kernel closes the sockets, no NOTIFICATION is sent."""
        self._signal(signal.SIGKILL)
        if self._proc is not None:
            self._proc.wait(10)
        self._frozen = False

    def _signal(self, sig: int) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._proc.pid, sig)

    def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(1)
