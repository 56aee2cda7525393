"""`ixrs run`'s session lines and live status line: the pieces (ixrs.status) with a fake
clock, and the whole over real BGP sessions on the real embedded broker."""

from __future__ import annotations

import io
import re
import signal
from pathlib import Path

from ixrs.status import Board, Console, Reporter, format_line, parse_line
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from speaker.codec import Update
from tests.cli.test_run import EXAMPLES, _line, _start
from tests.helpers import kill_quietly, wait_for
from tests.speaker.test_export import Peer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_role_status_lines_round_trip() -> None:
    line = format_line("worker", {"accepted": 3, "filtered": 1})
    assert line == "status: worker accepted=3 filtered=1"
    assert parse_line(line) == ("worker", {"accepted": 3, "filtered": 1})
    assert parse_line("status: sessions_up=1 received=2") is None  # run's own, not a role's
    assert parse_line("status: worker accepted=x") is None
    assert parse_line("bgp: 127.0.0.1:179") is None


def test_reporter_prints_at_most_once_per_interval_and_only_changes() -> None:
    counters = {"accepted": 0}
    out, clock = io.StringIO(), Clock()
    reporter = Reporter("worker", lambda: counters, interval=1.0, out=out, clock=clock)
    assert reporter.poll()  # the first state is news
    assert not reporter.poll()
    counters["accepted"] = 5
    clock.now += 0.5
    assert not reporter.poll()  # changed, but not due
    clock.now += 0.5
    assert reporter.poll()
    clock.now += 5
    assert not reporter.poll()  # due, unchanged
    assert out.getvalue().splitlines() == ["status: worker accepted=0",
                                           "status: worker accepted=5"]


def test_board_sums_the_roles() -> None:
    board = Board()
    board.update("speaker", {"sessions_up": 2, "received": 10, "exported": 4})
    board.update("worker 1", {"accepted": 6, "filtered": 1})
    board.update("worker 2", {"accepted": 2, "filtered": 1})
    board.update("worker 2", {"accepted": 3, "filtered": 1})  # the latest counts
    assert board.line() == "status: sessions_up=2 received=10 accepted=9 filtered=2 exported=4"


def test_console_plain_prints_changes_every_few_seconds() -> None:
    board, out, clock = Board(), io.StringIO(), Clock()
    console = Console(board, out=out, tty=False, plain_interval=5.0, clock=clock)
    console.refresh()
    board.update("speaker", {"sessions_up": 1})
    clock.now += 1
    console.refresh()  # changed, not due
    console.relay("session 192.0.2.2 AS20002: Established")
    clock.now += 4
    console.refresh()
    console.refresh()  # unchanged
    board.update("worker 1", {"accepted": 2})
    console.refresh()  # changed, not due
    console.close()  # the final counts are not lost
    assert out.getvalue().splitlines() == [
        "status: sessions_up=0 received=0 accepted=0 filtered=0 exported=0",
        "session 192.0.2.2 AS20002: Established",
        "status: sessions_up=1 received=0 accepted=0 filtered=0 exported=0",
        "status: sessions_up=1 received=0 accepted=2 filtered=0 exported=0",
    ]


def test_console_tty_rewrites_one_status_line_below_the_log() -> None:
    board, out = Board(), io.StringIO()
    console = Console(board, out=out, tty=True)
    console.relay("bgp: 127.0.0.1:1179")
    console.refresh()
    board.update("speaker", {"sessions_up": 1})
    console.refresh()
    console.relay("session 192.0.2.2 AS20002: Established")
    console.close()
    zero = "status: sessions_up=0 received=0 accepted=0 filtered=0 exported=0"
    one = "status: sessions_up=1 received=0 accepted=0 filtered=0 exported=0"
    assert out.getvalue() == (
        "bgp: 127.0.0.1:1179\n" + f"\r\x1b[K{zero}" + f"\r\x1b[K{one}"
        + f"\r\x1b[Ksession 192.0.2.2 AS20002: Established\n{one}" + "\n")


CLIENTS = """
clients:
  - asn: 20002
    ip: "127.0.0.2"
  - asn: 20003
    ip: "127.0.0.3"
"""
A, B = ("127.0.0.2", 20002), ("127.0.0.3", 20003)
STATUS = re.compile(r"^status: sessions_up=(\d+) received=(\d+) accepted=(\d+) "
                    r"filtered=(\d+) exported=(\d+)$")


class Run:
    """What `Peer.up` needs of a speaker: its address."""

    def __init__(self, port: int) -> None:
        self.address = ("127.0.0.1", port)


def _statuses(out: Path) -> list[tuple[int, ...]]:
    return [tuple(int(n) for n in m.groups()) for line in out.read_text().splitlines()
            if (m := STATUS.match(line))]


def test_run_logs_sessions_and_keeps_a_status_line(tmp_path: Path) -> None:
    from ixrs.embedded import free_port

    clients = tmp_path / "clients.yml"
    clients.write_text(CLIENTS)
    port = free_port()
    out = tmp_path / "out.txt"
    proc = _start(["run", "--general", str(EXAMPLES / "general.yml"), "--clients",
                   str(clients), "--state-dir", str(tmp_path / "state"),
                   "--listen", f"127.0.0.1:{port}"], out)
    peers: list[Peer] = []
    try:
        _line(out, "bgp: ")
        run = Run(port)
        a = Peer.up(A, run)  # type: ignore[arg-type]
        peers.append(a)
        b = Peer.up(B, run)  # type: ignore[arg-type]
        peers.append(b)
        _line(out, "session 127.0.0.2 AS20002: Established")
        _line(out, "session 127.0.0.3 AS20003: Established")
        attrs = Attributes(origin=Origin.IGP, next_hop=A[0],
                           as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (A[1], 3333)),))
        a.client.announce(Update(attributes=attrs, nlri=("185.50.0.0/24", "10.0.0.0/24")))
        b.read_until(lambda: "185.50.0.0/24" in b.rib, "the accepted route at B")
        # Not sent to anyone: the bogon. The status line counts both, and the export.
        wait_for(lambda: any(s[:4] == (2, 2, 1, 1) and s[4] >= 1 for s in _statuses(out)),
                 40, f"the status line with the route; got {_statuses(out)}")
        assert "10.0.0.0/24" not in b.rib
        a.client.close()
        peers.remove(a)
        line = _line(out, "session 127.0.0.2 AS20002: Idle")
        assert re.match(r"^session 127\.0\.0\.2 AS20002: Idle \(.+\)$", line), line
        wait_for(lambda: any(s[0] == 1 for s in _statuses(out)[-1:]), 40,
                 "sessions_up back to 1")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        text = out.read_text()
        assert "\r" not in text and "\x1b" not in text  # not a terminal: plain lines
        # Not flooded: the roles' own status lines are folded, not relayed.
        assert not re.search(r"^status: (speaker|worker) ", text, re.M)
    finally:
        for peer in peers:
            peer.client.close()
        kill_quietly(proc.pid, signal.SIGKILL)
        proc.wait()
