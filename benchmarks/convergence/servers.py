"""The two route servers under test, on the LAN's route-server host (192.0.2.1), one at a
time, and the birdc look-ups the benchmark makes of its BIRD peers."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from tests.helpers import children, wait_for
from tests.interop.system import IxrsOnLan
from tests.lab.daemon import Daemon
from tests.lab.netns import Host, run

_IMPORTED = re.compile(r"Routes:\s+(\d+) imported")


# --- birdc ------------------------------------------------------------------------------

def birdc(sock: Path, *command: str, timeout: float = 60.0) -> str:
    return run(["birdc", "-s", str(sock), *command], check=False, timeout=timeout).stdout


def birdc_all(socks: list[Path], *command: str) -> None:
    """The same command to several BIRDs at once, so that N sessions start within a few ms
    of each other rather than one birdc start-up apart."""
    procs = [subprocess.Popen(["birdc", "-s", str(s), *command], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for s in socks]
    for proc in procs:
        proc.wait(60)


def imported(sock: Path, protocol: str) -> int | None:
    """Routes the protocol's channel holds (protocol statistics: constant time, unlike
    ``show route count``, which walks the table)."""
    try:
        out = birdc(sock, "show", "protocols", "all", protocol, timeout=30)
    except subprocess.TimeoutExpired:  # BIRD busy: no answer this time
        return None
    match = _IMPORTED.search(out)
    return int(match.group(1)) if match else 0


def protocol_state(sock: Path, protocol: str) -> str:
    """The last column of ``show protocols``: Established, Active, Idle, ... or down."""
    out = birdc(sock, "show", "protocols", protocol)
    line = next((ln for ln in out.splitlines() if ln.split()[:1] == [protocol]), "")
    fields = line.split()
    if len(fields) >= 4 and fields[3] == "down":
        return "down"
    return fields[-1] if fields else "?"


def established_since(sock: Path, protocol: str, around: datetime) -> datetime | None:
    """When the protocol's session last changed state, if it is Established now. BIRD shows
    the time of day only (hh:mm:ss.mmm); ``around`` gives the date, and a benchmark run that
    crosses midnight is recognised by a time far before it."""
    out = birdc(sock, "show", "protocols", protocol)
    line = next((ln for ln in out.splitlines() if ln.split()[:1] == [protocol]), "")
    fields = line.split()
    if len(fields) < 6 or fields[5] != "Established":
        return None
    clock = datetime.strptime(fields[4], "%H:%M:%S.%f").time()
    when = datetime.combine(around.date(), clock, tzinfo=around.tzinfo)
    if when < around - timedelta(hours=12):
        when += timedelta(days=1)
    return when


def bird_ready(sock: Path) -> bool:
    return sock.exists() and "Daemon is up and running" in birdc(sock, "show", "status")


# --- the route servers ------------------------------------------------------------------

class RouteServer(Protocol):
    name: str

    def start(self, workdir: Path, index: int) -> None: ...

    def pids(self) -> dict[str, int]:
        """Every process of the route server now, by role."""
        ...

    def check(self) -> None:
        """Raise if a process of the route server has exited."""
        ...

    def stop(self) -> None: ...

    def progress(self) -> dict[str, int]:
        """Counters the route server reports of its own (ixrs: its roles' status lines)."""
        ...


class IxrsServer:
    """Broker, speaker and worker(s) as the interop tests start them (IxrsOnLan)."""

    name = "ixrs"

    def __init__(self, host: Host, general: Path, clients: Path, partitions: int,
                 workers: int) -> None:
        self.host, self.general, self.clients = host, general, clients
        self.partitions, self.workers = partitions, workers
        self.rs: IxrsOnLan | None = None

    def start(self, workdir: Path, index: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        rs = IxrsOnLan(self.host, workdir, self.general, self.clients,
                       partitions=self.partitions)
        # A fresh port per run: the last broker's may linger in TIME_WAIT.
        rs.port = 19092 + index
        rs.bootstrap = f"127.0.0.1:{rs.port}"
        self.rs = rs
        rs.start_broker()
        rs.start_speaker()
        for n in range(self.workers):
            rs.start_worker(f"worker{n + 1}" if self.workers > 1 else "worker")

    def pids(self) -> dict[str, int]:
        assert self.rs is not None and self.rs.broker is not None
        out = {"broker": self.rs.broker.pid}
        out.update({role: proc.pid for role, proc in self.rs.roles.items()})
        # Any process a role started (none today) counts towards its memory too.
        for role, pid in list(out.items()):
            for n, child in enumerate(_descendants(pid)):
                out[f"{role} child {n + 1}"] = child
        return out

    def check(self) -> None:
        assert self.rs is not None and self.rs.broker is not None
        for role, proc in [("broker", self.rs.broker), *self.rs.roles.items()]:
            if proc.poll() is not None:
                log = self.rs.logs.get(role)
                tail = log.read_text()[-3000:] if log else ""
                raise RuntimeError(f"ixrs {role} exited with {proc.returncode}\n{tail}")

    def stop(self) -> None:
        if self.rs is not None:
            self.rs.close()
            self.rs = None

    def progress(self) -> dict[str, int]:
        """The last ``status: speaker ...`` and ``status: worker ...`` counters (received,
        exported, accepted, filtered), which the roles print about once a second: they tell
        which stage a slow convergence waits on."""
        assert self.rs is not None
        out: dict[str, int] = {}
        for role, log in self.rs.logs.items():
            kind = role.rstrip("0123456789")  # worker1, worker2, ...: summed
            for key, value in _last_status(log, f"status: {kind} ").items():
                out[f"{kind} {key}"] = out.get(f"{kind} {key}", 0) + value
        return out


class BirdServer:
    """The arouteserver-built BIRD route server."""

    name = "bird"

    def __init__(self, host: Host, conf: Path) -> None:
        self.host, self.conf = host, conf
        self.daemon: Daemon | None = None
        self.sock: Path | None = None

    def start(self, workdir: Path, index: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.sock = workdir / "bird.ctl"
        self.daemon = Daemon(self.host, ["bird", "-f", "-c", str(self.conf), "-s", str(self.sock),
                                         "-P", str(workdir / "bird.pid")], workdir / "bird.log")
        self.daemon.start()
        sock = self.sock
        wait_for(lambda: self._alive() and bird_ready(sock), 30, "the BIRD route server")

    def _alive(self) -> bool:
        self.check()
        return True

    def pids(self) -> dict[str, int]:
        assert self.daemon is not None
        return {"bird": self.daemon.pid}

    def check(self) -> None:
        if self.daemon is not None and not self.daemon.running():
            raise RuntimeError(f"the BIRD route server exited with {self.daemon.exit_code()}:\n"
                               f"{self.daemon.log()[-3000:]}")

    def progress(self) -> dict[str, int]:
        return {}

    def stop(self) -> None:
        if self.daemon is not None:
            # Its peers are disabled already; a clean shutdown of a full table only costs time.
            self.daemon.kill9()
            self.daemon = None


def _last_status(log: Path, prefix: str) -> dict[str, int]:
    """key=value integers of the last line starting with ``prefix`` in the log's tail."""
    try:
        with log.open("rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 16384))
            tail = f.read().decode(errors="replace")
    except FileNotFoundError:
        return {}
    line = next((ln for ln in reversed(tail.splitlines()) if ln.startswith(prefix)), "")
    pairs = (item.partition("=") for item in line[len(prefix):].split())
    return {k: int(v) for k, _, v in pairs if v.isdigit()}


def _descendants(pid: int) -> list[int]:
    out, todo = [], children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(children(child))
    return out
