"""`ixrs mrt` on a real pipeline (speaker, worker, the embedded broker): the UPDATEs in the
export are byte for byte those the test clients sent and received, and three independent
readers read the same routes back."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ixrs.timespec import format_time
from schemas.attributes import Attributes, Origin
from schemas.events import RawUpdates, SentUpdate, SessionChange, SessionState
from speaker.codec import Update, encode
from speaker.codec.decode import decode
from speaker.codec.messages import Keepalive, MpReach
from tests.helpers import wait_for
from tests.processors.test_worker import pipeline  # noqa: F401  (the fixture)
from tests.replay.mrt_readers import bgp4mp, bgpdump, bgpkit_elems, mrtparse_records
from tests.replay.test_replay_state import _path
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import ROOT

RS_AS, ROUTER_ID = 59900, "192.0.2.1"  # examples/general.yml


def mrt(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "ixrs", "mrt", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done


class Frames:
    """A client's side of the session, frame by frame: every UPDATE received, as bytes."""

    def __init__(self, client: BgpTestClient) -> None:
        self.client = client
        self.updates: list[bytes] = []
        self.routes: dict[str, Attributes] = {}

    def until(self, condition: Callable[[dict[str, Attributes]], bool],
              timeout: float = 60.0) -> None:
        client, reader = self.client, self.client.reader
        assert client.sock is not None
        deadline = time.monotonic() + timeout
        while not condition(self.routes):
            frame = reader.next_frame()
            if frame is None:
                left = deadline - time.monotonic()
                assert left > 0, f"the client holds {sorted(self.routes)}"
                client.sock.settimeout(min(left, 1.0))
                try:
                    data = client.sock.recv(65536)
                except TimeoutError:
                    continue
                assert data, "the speaker closed the session"
                reader.feed(data)
                continue
            message = decode(frame, reader.negotiated)
            if isinstance(message, Keepalive):
                client.keepalive()
            elif isinstance(message, Update):
                self.updates.append(frame)
                for prefix in message.withdrawals():
                    self.routes.pop(prefix, None)
                for attributes, prefixes in message.announced():
                    self.routes.update(dict.fromkeys(prefixes, attributes))


class Sender:
    """A test client that keeps the bytes of every UPDATE it sends."""

    def __init__(self, client: BgpTestClient) -> None:
        self.client = client
        self.sent: list[bytes] = []

    def announce(self, update: Update) -> None:
        raw = encode(update, self.client.negotiated)
        self.client.send(raw)
        self.sent.append(raw)


def test_mrt_exports_match_the_wire(pipeline, tmp_path: Path) -> None:  # noqa: F811
    speaker, common = pipeline
    start = time.time_ns() // 1000 - 1_000_000
    a = Sender(BgpTestClient("127.0.0.2", speaker.address, 20002))
    a.client.establish()
    old = Sender(BgpTestClient("127.0.0.8", speaker.address, 20008, four_octet=False))
    old.client.establish()
    receiver = BgpTestClient("127.0.0.3", speaker.address, 20003)
    receiver.establish()
    frames = Frames(receiver)

    v4 = Attributes(origin=Origin.IGP, next_hop="127.0.0.2", as_path=_path(20002, 3333),
                    communities=((65000, 1), (20002, 7)), large_communities=((20002, 1, 2),))
    v6 = Attributes(origin=Origin.IGP, as_path=_path(20002, 212232), communities=((65000, 6),))
    a.announce(Update(attributes=v4, nlri=("185.50.0.0/24", "185.50.1.0/24")))
    a.announce(Update(attributes=v6, mp_reach=MpReach(2, 1, "2001:db8:1::2", "fe80::2",
                                                      ("2a0c:9a40::/32",))))
    two = Attributes(origin=Origin.IGP, next_hop="127.0.0.8", as_path=_path(20008, 3334))
    old.announce(Update(attributes=two, nlri=("185.52.0.0/24",)))
    frames.until(lambda r: {"185.50.0.0/24", "185.50.1.0/24", "185.52.0.0/24"} <= set(r))
    a.announce(Update(withdrawn=("185.50.1.0/24",)))
    frames.until(lambda r: "185.50.1.0/24" not in r)
    old.client.close()  # its session goes down, its route is withdrawn
    frames.until(lambda r: "185.52.0.0/24" not in r)

    def logged() -> bool:
        raw = [m for e in speaker.events("raw-updates") if isinstance(e, RawUpdates)
               for m in e.messages]
        sent = [e for e in speaker.events("sent") if isinstance(e, SentUpdate)
                and e.session.peer_address == "127.0.0.3"]
        down = [e for e in speaker.events("sessions", 1) if isinstance(e, SessionChange)
                and e.session.peer_address == "127.0.0.8" and e.state == SessionState.IDLE]
        return len(raw) == len(a.sent) + len(old.sent) and \
            len(sent) >= len(frames.updates) and bool(down)
    wait_for(logged, 30, "the speaker's records of every message")
    changes = [e for e in speaker.events("sessions", 1) if isinstance(e, SessionChange)]
    end = max(e.header.event_time_us for e in speaker.events("sent")
              if isinstance(e, SentUpdate)) + 1

    updates = tmp_path / "updates.mrt"
    done = mrt("updates", "--from", format_time(start), "--to", format_time(end), "-o",
               str(updates), *common)
    assert "mrt updates:" in done.stderr
    records = bgp4mp(updates.read_bytes())
    received = {ip: [r.payload for r in records if r.peer_ip == ip and r.subtype in (1, 4)]
                for ip in ("127.0.0.2", "127.0.0.8")}
    assert received["127.0.0.2"] == a.sent, "MESSAGE_AS4: the bytes the client sent"
    assert received["127.0.0.8"] == old.sent, "MESSAGE (2-octet session): the same"
    # received and sent: _AS4 subtypes for a 4-octet session, the 2-octet ones otherwise
    assert {r.subtype for r in records if r.peer_ip == "127.0.0.2"} == {4, 5, 7}
    assert {r.subtype for r in records if r.peer_ip == "127.0.0.8"} == {1, 5, 6}
    to_receiver = [r.payload for r in records if r.peer_ip == "127.0.0.3" and r.subtype == 7]
    assert to_receiver == frames.updates, "MESSAGE_AS4_LOCAL: what the receiver got"
    assert {(r.peer_as, r.local_as) for r in records if r.peer_ip == "127.0.0.3"} == {
        (20003, RS_AS)}
    local = {c.local_address or ROUTER_ID for c in changes}
    assert {r.local_ip for r in records} == local
    states = [(r.peer_ip, r.payload) for r in records if r.subtype == 5]
    assert states == [(c.session.peer_address, bytes([0, c.previous_state + 1, 0,
                                                      c.state + 1]))
                      for c in changes if start < c.header.event_time_us <= end]
    assert ("127.0.0.8", b"\x00\x06\x00\x01") in states, "Established to Idle"
    assert [r.time_us for r in records] == sorted(r.time_us for r in records)

    _readers_agree_on_updates(updates, v4)

    rib = tmp_path / "rib.mrt"
    mrt("rib", "--at", "now", "-o", str(rib), *common)
    lines = {(ln[3], ln[5]): ln for ln in bgpdump(rib)}
    assert set(lines) == {("127.0.0.2", "185.50.0.0/24"), ("127.0.0.2", "2a0c:9a40::/32")}, \
        "every route received and held, the filtered IPv6 one too; none of the closed session"
    assert lines[("127.0.0.2", "185.50.0.0/24")][6:12] == [
        "20002 3333", "IGP", "127.0.0.2", "0", "0", "65000:1 20002:7"]
    assert lines[("127.0.0.2", "2a0c:9a40::/32")][6] == "20002 212232"
    assert lines[("127.0.0.2", "2a0c:9a40::/32")][8] == "2001:db8:1::2"
    table, *ribs = mrtparse_records(rib)
    assert table["collector_bgp_id"] == ROUTER_ID
    assert [r["prefix"] for r in ribs] == ["185.50.0.0", "2a0c:9a40::"]
    elems = {e["prefix"]: e for e in bgpkit_elems(rib)}
    assert elems["185.50.0.0/24"]["communities"] == ["65000:1", "20002:7", "lg:20002:1:2"]
    assert elems["2a0c:9a40::/32"]["next_hop"] == "2001:db8:1::2"

    out = tmp_path / "rib-out.mrt"
    done = mrt("rib", "--at", "now", "--client", "AS20003", "-o", str(out), *common)
    assert "adj-rib-out AS20003" in done.stderr
    held = {(ln[5], ln[6], ln[8], ln[11]) for ln in bgpdump(out)}
    assert held == {(p, "20002 3333", a.next_hop, "65000:1 20002:7")
                    for p, a in frames.routes.items()}
    # the route server is the peer, at its end of the receiver's session
    ours = {c.local_address or ROUTER_ID for c in changes
            if c.session.peer_address == "127.0.0.3"}
    assert {(ln[3], ln[4]) for ln in bgpdump(out)} == {(a, str(RS_AS)) for a in ours}

    # The same exports from an archive of the topics (`--archive DIR`, no broker).
    archive = tmp_path / "archive"
    done = subprocess.run([sys.executable, "-m", "ixrs", "archive", "--out", str(archive),
                           *common], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    at = common.index("--bootstrap")
    offline = common[:at] + common[at + 2:]
    for kind, period in (("updates", ("--from", format_time(start), "--to", format_time(end))),
                         ("rib", ("--at", format_time(end)))):
        from_kafka, from_archive = tmp_path / f"{kind}.kafka", tmp_path / f"{kind}.archive"
        mrt(kind, *period, "-o", str(from_kafka), *common)
        mrt(kind, *period, "-o", str(from_archive), "--archive", str(archive), *offline)
        assert from_archive.read_bytes() == from_kafka.read_bytes()
    for client in (a.client, receiver):
        client.close()


def _readers_agree_on_updates(path: Path, v4: Attributes) -> None:
    """mrtparse reads every record; bgpdump and bgpkit give the same announcements."""
    records = mrtparse_records(path)
    assert len(records) == len(bgp4mp(path.read_bytes()))
    dumped = [ln for ln in bgpdump(path) if ln[2] in ("A", "W")]
    kit = bgpkit_elems(path)

    def routes(rows: list[Any]) -> list[tuple[str, str, str]]:
        return sorted(rows)

    from_dump = routes([(ln[3], ln[2], ln[5]) for ln in dumped])
    from_kit = routes([(e["peer_ip"], e["elem_type"], e["prefix"]) for e in kit])
    assert from_dump == from_kit
    assert ("127.0.0.2", "A", "2a0c:9a40::/32") in from_dump
    assert ("127.0.0.2", "W", "185.50.1.0/24") in from_dump
    assert ("127.0.0.3", "A", "185.52.0.0/24") in from_dump, "sent: the other client's route"
    v4_lines = [ln for ln in dumped if ln[3] == "127.0.0.2" and ln[5] == "185.50.0.0/24"]
    assert [ln[6:12] for ln in v4_lines] == [
        ["20002 3333", "IGP", v4.next_hop, "0", "0", "65000:1 20002:7"]]
