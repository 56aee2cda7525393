"""`ixrs run` and `ixrs broker` as an operator uses them: real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import alive, children, kill_quietly, wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
IXRS = [sys.executable, "-m", "ixrs"]


def _start(args: list[str], out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(IXRS + args, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)


def _broker_line(out: Path) -> str:
    def line() -> str | None:
        for text in out.read_text().splitlines():
            if text.startswith("broker: "):
                return text
        return None

    return wait_for(line, 30, "the broker: line")


def _run_args(state: Path) -> list[str]:
    from ixrs.embedded import free_port

    return ["run", "--general", str(EXAMPLES / "general.yml"),
            "--clients", str(EXAMPLES / "clients.yml"), "--state-dir", str(state),
            "--listen", f"127.0.0.1:{free_port()}"]


def _line(out: Path, start: str) -> str:
    def line() -> str | None:
        for text in out.read_text().splitlines():
            if text.startswith(start):
                return text
        return None

    return wait_for(line, 30, f"the {start!r} line")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_starts_the_broker_and_stops_it_on_signal(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "out.txt"
    proc = _start(_run_args(tmp_path / "state"), out)
    try:
        line = _broker_line(out)
        assert line.startswith("broker: 127.0.0.1:")
        assert _line(out, "bgp: ").startswith("bgp: 127.0.0.1:")
        kids = wait_for(lambda: (lambda k: k if len(k) == 4 else None)(children(proc.pid)), 10,
                        "the broker, archiver, speaker and worker children")
        proc.send_signal(sig)
        assert proc.wait(30) == 0
        for pid in kids:
            wait_for(lambda p=pid: not alive(p), 10, f"child {pid} to exit")
    finally:
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()


def test_ctrl_c_at_a_terminal_stops_the_roles_before_the_broker(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches its whole foreground process group. Only ixrs may get it:
    # a broker dying with the roles leaves them unable to flush, and the run unclean.
    out = tmp_path / "out.txt"
    with out.open("wb") as sink:
        proc = subprocess.Popen(IXRS + _run_args(tmp_path / "state"), stdout=sink,
                                stderr=subprocess.STDOUT, cwd=ROOT, process_group=0)
    try:
        _line(out, "bgp: ")
        wait_for(lambda: "worker: partitions" in out.read_text(), 60, "the worker's partitions")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(30) == 0, out.read_text()[-2000:]
        assert "did not stop in time" not in out.read_text()
    finally:
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()


def test_children_die_with_a_killed_run(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    proc = _start(_run_args(tmp_path / "state"), out)
    _line(out, "bgp: ")
    kids = wait_for(lambda: (lambda k: k if len(k) == 4 else None)(children(proc.pid)), 10,
                    "the broker, archiver, speaker and worker children")
    proc.kill()  # SIGKILL: no cleanup code of ours runs
    proc.wait()
    for pid in kids:
        wait_for(lambda p=pid: not alive(p), 10, f"orphan {pid} to die")


def test_broker_command_alone(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    proc = _start(["broker", "--state-dir", str(tmp_path / "s")], out)
    try:
        line = _broker_line(out)
        bootstrap = line.split()[1]
        # The broker is usable by a role started by hand: the topics are there.
        from confluent_kafka.admin import AdminClient

        md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
        assert "ixrs.routes" in md.topics
        assert len(md.topics["ixrs.routes"].partitions) == 8
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()


def test_run_publishes_the_configuration_once(tmp_path: Path) -> None:
    from ixrs import topics
    from ixrs.eventlog import SingleObjectFraming, read_partition

    out = tmp_path / "out.txt"
    proc = _start(_run_args(tmp_path / "state"), out)
    try:
        bootstrap = _broker_line(out).split()[1]
        got = list(read_partition(bootstrap, topics.CONFIG.name("ixrs."), 0,
                                  SingleObjectFraming()))
        assert len(got) == 1
        event = got[0][1]
        assert len(event.version) == 64
        assert {Path(s.path).name for s in event.sources} == {"general.yml", "clients.yml"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
