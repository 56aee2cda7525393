from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ixrs.embedded import free_port
from ixrs.eventlog import SingleObjectFraming, read_partition, read_partitions
from schemas.decisions import per_prefix
from tests.helpers import kill_quietly, wait_for

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4

CLIENTS = """
clients:
  - asn: 20002
    ip: "127.0.0.2"
  - asn: 20003
    ip: "127.0.0.3"
  - asn: 196615
    ip: "127.0.0.4"
  - asn: 20005
    ip: "127.0.0.5"
    cfg:
      filtering:
        max_prefix:
          action: "shutdown"
          limit_ipv4: 3
  - asn: 20006
    ip: "127.0.0.6"
    cfg:
      filtering:
        max_prefix:
          action: "block"
          limit_ipv4: 3
  - asn: 20007
    ip: "127.0.0.7"
    cfg:
      filtering:
        max_prefix:
          action: "restart"
          restart_after: 1
          limit_ipv4: 3
  - asn: 20008
    ip: "127.0.0.8"
"""


@dataclass
class RunningSpeaker:
    proc: subprocess.Popen[bytes]
    port: int
    bootstrap: str
    prefix: str
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def events(self, topic: str, partitions: int = PARTITIONS) -> list[object]:
        return [e for _p, _o, record in read_partitions(self.bootstrap, self.prefix + topic,
                                                         list(range(partitions)),
                                                         SingleObjectFraming())
                for e in per_prefix(record)]

    def partition_events(self, topic: str, partition: int) -> list[object]:
        return [e for _o, record in read_partition(self.bootstrap, self.prefix + topic,
                                                   partition, SingleObjectFraming())
                for e in per_prefix(record)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_speaker(broker, topic_prefix: str, tmp: Path, port: int | None = None
                  ) -> RunningSpeaker:
    clients = tmp / "clients.yml"
    clients.write_text(CLIENTS)
    deploy = tmp / "ixrs.yml"
    deploy.write_text(f"kafka:\n  partitions: {PARTITIONS}\nbgp:\n  hold_time: 90\n")
    port = port or free_port()
    log = tmp / f"speaker-{port}-{uuid.uuid4().hex[:6]}.log"  # a restart gets its own log
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ixrs", "speaker", "--bootstrap", broker.bootstrap,
             "--topic-prefix", topic_prefix, "--listen", f"127.0.0.1:{port}",
             "--general", str(ROOT / "examples" / "general.yml"), "--clients", str(clients),
             "--deploy", str(deploy), "--state-dir", str(tmp / "state")],
            stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    running = RunningSpeaker(proc, port, broker.bootstrap, topic_prefix, log)

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"speaker exited: {log.read_text()}")
        return f"bgp: 127.0.0.1:{port}" in log.read_text()

    wait_for(ready, 30, "the speaker to listen")
    return running


@pytest.fixture
def speaker(broker, topic_prefix: str, tmp_path: Path) -> Iterator[RunningSpeaker]:
    running = start_speaker(broker, topic_prefix, tmp_path)
    try:
        yield running
    finally:
        running.stop()
        kill_quietly(running.proc.pid, signal.SIGKILL)
