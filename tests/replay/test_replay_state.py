"""`ixrs replay --at`: the state at two moments of a real pipeline (speaker, worker, the
embedded broker), against what a client was really sent."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from ixrs.timespec import format_time
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from speaker.codec import Update
from speaker.codec.messages import Keepalive
from tests.helpers import wait_for
from tests.processors.test_worker import pipeline  # noqa: F401  (the fixture)
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import PARTITIONS, ROOT


def replay(*args: str) -> list[dict[str, Any]]:
    result = subprocess.run([sys.executable, "-m", "ixrs", "replay", *args], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _path(*asns: int) -> tuple[AsPathSegment, ...]:
    return (AsPathSegment(SegmentType.AS_SEQUENCE, asns),)


class Rib:
    """What a test client holds: every UPDATE it was sent, applied."""

    def __init__(self, client: BgpTestClient) -> None:
        self.client = client
        self.routes: dict[str, Attributes] = {}

    def until(self, condition: Any, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.routes):
            left = deadline - time.monotonic()
            assert left > 0, f"the client holds {sorted(self.routes)}"
            try:
                message = self.client.recv(min(left, 1.0))
            except TimeoutError:
                continue
            if isinstance(message, Update):
                for prefix in message.withdrawals():
                    self.routes.pop(prefix, None)
                for attributes, prefixes in message.announced():
                    for prefix in prefixes:
                        self.routes[prefix] = attributes
            elif isinstance(message, Keepalive):
                self.client.keepalive()


def sender_and_receiver(speaker: Any) -> tuple[BgpTestClient, BgpTestClient, Rib]:
    """AS20002 (127.0.0.2) announcing two routes and a bogon; AS20003 (127.0.0.3) and what
    it is sent."""
    sender = BgpTestClient("127.0.0.2", speaker.address, 20002)
    sender.establish()
    receiver = BgpTestClient("127.0.0.3", speaker.address, 20003)
    receiver.establish()
    rib = Rib(receiver)
    good = Attributes(origin=Origin.IGP, next_hop="127.0.0.2", as_path=_path(20002, 3333),
                      communities=((65000, 1),))
    sender.announce(Update(attributes=good, nlri=("185.50.0.0/24", "185.50.1.0/24")))
    sender.announce(Update(attributes=good, nlri=("10.99.0.0/16",)))  # a bogon: filtered
    return sender, receiver, rib


def test_replay_at_two_moments_matches_what_the_client_was_sent(pipeline) -> None:  # noqa: F811
    speaker, common = pipeline
    sender, receiver, rib = sender_and_receiver(speaker)
    rib.until(lambda r: {"185.50.0.0/24", "185.50.1.0/24"} <= set(r))
    first = time.time_ns() // 1000
    first_rib = dict(rib.routes)

    sender.announce(Update(withdrawn=("185.50.1.0/24",)))
    rib.until(lambda r: "185.50.1.0/24" not in r)
    second_rib = dict(rib.routes)

    then = replay("--at", format_time(first), *common)
    now = replay("--at", "now", *common)

    def of(records: list[dict[str, Any]], kind: str, **match: Any) -> dict[str, dict[str, Any]]:
        return {r["prefix"]: r for r in records if r["type"] == kind
                and all(r.get(k) == v or r.get(k, {}).get("ip") == v for k, v in match.items())}

    adj_in = of(then, "adj-in", client="127.0.0.2")
    assert set(adj_in) == {"185.50.0.0/24", "185.50.1.0/24", "10.99.0.0/16"}
    assert adj_in["185.50.0.0/24"]["accepted"] is True
    assert adj_in["185.50.0.0/24"]["reasons"] == []
    assert adj_in["10.99.0.0/16"]["accepted"] is False
    assert [r["name"] for r in adj_in["10.99.0.0/16"]["reasons"]] == ["bogon"]
    assert adj_in["185.50.0.0/24"]["attributes"]["as_path"] == "20002 3333"

    decisions = of(then, "decision")
    assert set(decisions) == {"185.50.0.0/24", "185.50.1.0/24"}
    assert decisions["185.50.0.0/24"]["best"]["from"] == {"asn": 20002, "ip": "127.0.0.2"}
    assert decisions["185.50.0.0/24"]["step"] == "only-candidate"

    for records, held in ((then, first_rib), (now, second_rib)):
        sent = of(records, "adj-out", client="127.0.0.3")
        assert set(sent) == set(held)
        for prefix, record in sent.items():
            assert record["attributes"]["next_hop"] == held[prefix].next_hop
            assert record["attributes"]["as_path"] == "20002 3333"
            assert record["caused_by"], "every route sent names the decision that caused it"
        assert not of(records, "adj-out", client="127.0.0.2"), "nothing of its own"

    assert set(of(now, "decision")) == {"185.50.0.0/24"}
    assert set(of(now, "adj-in", client="127.0.0.2")) == {"185.50.0.0/24", "10.99.0.0/16"}
    # offsets: every routes partition cut before its first event holds no route
    cut = ",".join(f"routes:{p}:0" for p in range(PARTITIONS))
    assert replay("--offsets", cut, "--what", "adj-in", *common) == []
    assert {r["prefix"] for r in replay("--offsets", cut.replace("routes:0:0,", ""),
                                        "--what", "adj-in", *common)} <= set(first_rib) | {
        "10.99.0.0/16"}
    only = replay("--at", "now", "--what", "adj-out", "--client", "AS20003", *common)
    assert {r["type"] for r in only} == {"adj-out"}
    assert {r["client"]["ip"] for r in only} == {"127.0.0.3"}
    sender.close()
    receiver.close()


def explain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ixrs", "explain", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_explain_tells_the_story_of_a_prefix(pipeline) -> None:  # noqa: F811
    speaker, common = pipeline
    a = BgpTestClient("127.0.0.2", speaker.address, 20002)
    a.establish()
    b = BgpTestClient("127.0.0.4", speaker.address, 196615)
    b.establish()
    receiver = BgpTestClient("127.0.0.3", speaker.address, 20003)
    receiver.establish()
    rib = Rib(receiver)
    prefix = "185.50.0.0/24"
    a.announce(Update(attributes=Attributes(origin=Origin.IGP, next_hop="127.0.0.2",
                                            as_path=_path(20002, 3333)), nlri=(prefix,)))
    # the longer path from b, and a route b may not send (another origin's left-most ASN)
    b.announce(Update(attributes=Attributes(origin=Origin.IGP, next_hop="127.0.0.4",
                                            as_path=_path(196615, 49544, 3333)), nlri=(prefix,)))
    b.announce(Update(attributes=Attributes(origin=Origin.IGP, next_hop="127.0.0.4",
                                            as_path=_path(20002, 3333)), nlri=("185.51.0.0/24",)))
    rib.until(lambda r: prefix in r and r[prefix].next_hop == "127.0.0.2")
    wait_for(lambda: any("185.51.0.0/24" in [p for g in v.groups for p in g.prefixes]
                         for v in speaker.events("verdicts")), 30, "the second verdict")

    result = explain("--at", "now", "--client", "AS20003", "--prefix", prefix, "--json", *common)
    assert result.returncode == 0, result.stderr
    story = json.loads(result.stdout)
    announced = [e for e in story["events"] if e["event"] == "announced"]
    assert [e["peer"]["ip"] for e in announced] == ["127.0.0.2", "127.0.0.4"]
    verdicts = [e for e in story["events"] if e["event"] == "verdict"]
    assert [(v["peer"]["ip"], v["accepted"]) for v in verdicts] == [
        ("127.0.0.2", True), ("127.0.0.4", True)]
    assert all(v["config_version"] for v in verdicts), "the configuration judged by"
    assert [c["from"]["ip"] for c in story["candidates"]] == ["127.0.0.2", "127.0.0.4"]
    assert all(c["for_client"] for c in story["candidates"])
    assert story["outcome"]["step"] == "as-path-length"
    assert story["outcome"]["route"]["from"]["ip"] == "127.0.0.2"
    assert [s["event"] for s in story["sent"]][-1] == "announced"
    assert story["sent"][-1]["attributes"]["next_hop"] == "127.0.0.2"

    # the sender's own view: its own route is not for it
    own = json.loads(explain("--at", "now", "--client", "127.0.0.2", "--prefix", prefix,
                             "--json", *common).stdout)
    assert own["candidates"][0]["why_not"] == "the client's own route"
    assert own["outcome"]["route"]["from"]["ip"] == "127.0.0.4"

    filtered = explain("--at", "now", "--client", "AS20003", "--prefix", "185.51.0.0/24",
                       *common)
    assert filtered.returncode == 0, filtered.stderr
    assert "filtered: invalid_left_most_asn" in filtered.stdout
    assert "nothing to send" in filtered.stdout
    for client in (a, b, receiver):
        client.close()
