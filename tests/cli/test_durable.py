"""The durable embedded mode: `ixrs run` without --bootstrap archives its log into the state
directory, and the next `ixrs run` gives it back to its new broker before any role starts.
History survives (a replay of an earlier moment), the broker incarnation and with it the
workers' saved state survive, and the route server serves the same routes again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from ixrs.embedded import free_port
from ixrs.timespec import format_time
from schemas.attributes import Attributes, Origin
from speaker.codec import Update
from tests.cli.test_run import EXAMPLES, IXRS, ROOT, _line
from tests.helpers import kill_quietly, wait_for
from tests.replay.test_replay_state import Rib, _path
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import CLIENTS

PREFIXES = {"185.50.0.0/24", "185.50.1.0/24"}


def _run(state: Path, tmp: Path, out: Path) -> tuple[subprocess.Popen[bytes], tuple[str, int]]:
    port = free_port()
    clients = tmp / "clients.yml"
    clients.write_text(CLIENTS)
    # The default save interval (30 s) is never reached here: what the restart keeps is
    # what the workers saved when they were stopped.
    env = dict(os.environ)
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [*IXRS, "run", "--general", str(EXAMPLES / "general.yml"), "--clients",
             str(clients), "--state-dir", str(state), "--listen", f"127.0.0.1:{port}"],
            stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    _line(out, "bgp: ")
    wait_for(lambda: "worker: partitions [" in out.read_text(), 60, "the worker's partitions")
    return proc, ("127.0.0.1", port)


def _stop(proc: subprocess.Popen[bytes], out: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(120) == 0, out.read_text()[-3000:]


def _replay(bootstrap: str, at: str) -> list[dict[str, Any]]:
    done = subprocess.run([*IXRS, "replay", "--at", at, "--bootstrap", bootstrap],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _serve(server: tuple[str, int]) -> dict[str, Attributes]:
    """A client announces the routes, another receives them: what it holds."""
    sender = BgpTestClient("127.0.0.2", server, 20002)
    sender.establish()
    receiver = BgpTestClient("127.0.0.3", server, 20003)
    receiver.establish()
    rib = Rib(receiver)
    attributes = Attributes(origin=Origin.IGP, next_hop="127.0.0.2",
                            as_path=_path(20002, 3333), communities=((65000, 1),))
    sender.announce(Update(attributes=attributes, nlri=tuple(sorted(PREFIXES))))
    rib.until(lambda r: set(r) >= PREFIXES)
    held = dict(rib.routes)
    sender.close()
    receiver.close()
    return held


def test_a_restarted_run_keeps_its_history_and_serves_the_same_routes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first_out, second_out = tmp_path / "first.txt", tmp_path / "second.txt"
    began = format_time(time.time_ns() // 1000)
    proc, server = _run(state, tmp_path, first_out)
    try:
        bootstrap = _line(first_out, "broker: ").split()[1]
        held = _serve(server)
        moment = format_time(time.time_ns() // 1000)
        before = _replay(bootstrap, moment)
        assert {r["prefix"] for r in before if r["type"] == "adj-out"} == PREFIXES
        proc.send_signal(signal.SIGHUP)  # passed on to every role: the archiver lives on
        _line(first_out, "config: reloaded")
        _stop(proc, first_out)
    finally:
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()
    stopped = format_time(time.time_ns() // 1000)
    assert (state / "archive" / "CLEAN").exists()
    incarnation = (state / "broker-incarnation").read_text()

    started = time.monotonic()
    proc, server = _run(state, tmp_path, second_out)
    try:
        restart_s = time.monotonic() - started
        text = second_out.read_text()
        assert "archive: re-seeded " in text, text
        assert "state: discarded" not in text, text
        assert (state / "broker-incarnation").read_text() == incarnation
        # the workers kept their saved state: partitions resume past their start
        resumed = wait_for(lambda: (lambda lines: lines if len(lines) == 8 else None)(
            [line for line in second_out.read_text().splitlines()
             if " resumes at offset " in line]), 60, "every partition's resume line")
        assert all("from saved state" in line for line in resumed), resumed
        assert any(" resumes at offset 0," not in line for line in resumed), resumed
        new_bootstrap = _line(second_out, "broker: ").split()[1]
        assert new_bootstrap != bootstrap
        assert _replay(new_bootstrap, moment) == before
        assert _serve(server) == held
        # The first run's last inputs (its sessions going down at the stop) and their
        # outputs are in the log, whichever run's worker wrote the outputs.
        verify = subprocess.run([*IXRS, "replay", "--verify", "--from", began, "--to", stopped,
                                 "--bootstrap", new_bootstrap], capture_output=True, text=True,
                                timeout=120, cwd=ROOT)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert " 0 decisions" not in verify.stderr
        _stop(proc, second_out)
    finally:
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()
    print(f"second start with re-seed: {restart_s:.1f} s")


def test_after_an_unclean_stop_the_saved_state_is_rebuilt(tmp_path: Path) -> None:
    state = tmp_path / "state"
    out = tmp_path / "first.txt"
    proc, server = _run(state, tmp_path, out)
    held = _serve(server)
    proc.kill()  # SIGKILL: the archiver may lag behind what the workers saved
    proc.wait()
    wait_for(lambda: not (state / "archive" / "CLEAN").exists(), 1, "no clean archive")
    again = tmp_path / "second.txt"
    proc, server = _run(state, tmp_path, again)
    try:
        text = again.read_text()
        assert "archive: re-seeded " in text, text
        assert "state: discarded local state: the archive may lack" in text, text
        assert _serve(server) == held
        _stop(proc, again)
    finally:
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()
