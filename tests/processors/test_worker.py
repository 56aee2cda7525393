"""The worker on the real embedded broker: routes in (from the real speaker), verdicts out;
a VRP change re-validates only the routes it touches."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Decision, Verdict
from speaker.codec import Update
from tests.helpers import kill_quietly, wait_for
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import ROOT, RunningSpeaker, start_speaker


def _ixrs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ixrs", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


IRR_GENERAL = """
cfg:
  rs_as: 59900
  router_id: "192.0.2.1"
  filtering:
    irrdb:
      enforce_origin_in_as_set: True
      enforce_prefix_in_as_set: True
      tag_as_set: False
      peering_db: False
    never_via_route_servers:
      peering_db: False
    max_prefix:
      peering_db:
        enabled: False
"""


@pytest.fixture
def pipeline(request: pytest.FixtureRequest, broker, topic_prefix: str, tmp_path: Path
             ) -> Iterator[tuple[RunningSpeaker, list[str]]]:
    general = ROOT / "examples" / "general.yml"
    if getattr(request, "param", None) == "irr":
        general = tmp_path / "general.yml"
        general.write_text(IRR_GENERAL)
    speaker = start_speaker(broker, topic_prefix, tmp_path)
    common = ["--bootstrap", broker.bootstrap, "--topic-prefix", topic_prefix,
              "--general", str(general),
              "--clients", str(tmp_path / "clients.yml"), "--deploy", str(tmp_path / "ixrs.yml"),
              "--state-dir", str(tmp_path / "worker-state")]
    log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen([sys.executable, "-m", "ixrs", "worker", *common],
                                  stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_for(lambda: "worker: started" in log.read_text(), 30, "the worker")
        yield speaker, common
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            kill_quietly(worker.pid, signal.SIGKILL)
            worker.wait()
        speaker.stop()


def _path(*asns: int) -> tuple[AsPathSegment, ...]:
    return (AsPathSegment(SegmentType.AS_SEQUENCE, asns),)


def _verdicts(speaker: RunningSpeaker) -> list[Verdict]:
    return [e for e in speaker.events("verdicts") if isinstance(e, Verdict)]


def _by_prefix(verdicts: list[Verdict]) -> dict[str, tuple[bool, list[str]]]:
    out = {}
    for verdict in verdicts:
        for group in verdict.groups:
            for prefix in group.prefixes:
                out[prefix] = (group.accepted, [r.name for r in group.reasons])
    return out


def _decided(speaker: RunningSpeaker) -> dict[str, Decision]:
    """The decision in force per prefix (the decisions topic is ordered per prefix)."""
    return {e.prefix: e for e in speaker.events("decisions") if isinstance(e, Decision)}


def _vrps(path: Path, asn: int) -> str:
    path.write_text(json.dumps({"roas": [
        {"asn": f"AS{asn}", "prefix": "185.50.0.0/24", "maxLength": 24, "ta": "ripe"}]}))
    return str(path)


def test_routes_in_verdicts_out_and_rpki_changes(pipeline, tmp_path: Path) -> None:
    speaker, common = pipeline
    client = BgpTestClient("127.0.0.2", speaker.address, 20002)
    client.establish()
    nh = "127.0.0.2"
    announcements = [
        (Attributes(origin=Origin.IGP, next_hop=nh, as_path=_path(20002, 3333)),
         ("185.50.0.0/24", "185.50.1.0/24")),
        (Attributes(origin=Origin.IGP, next_hop=nh, as_path=_path(20002, 3333)),
         ("10.99.0.0/16",)),
        (Attributes(origin=Origin.IGP, next_hop=nh, as_path=_path(20003, 3333)),
         ("185.51.0.0/24",)),
        (Attributes(origin=Origin.IGP, next_hop=nh, as_path=_path(20002, 3356, 3333)),
         ("185.52.0.0/24",)),
        (Attributes(origin=Origin.IGP, next_hop=nh, as_path=_path(20002, 3333)),
         ("185.53.0.128/25",)),
        (Attributes(origin=Origin.IGP, next_hop="127.0.0.9", as_path=_path(20002, 3333)),
         ("185.54.0.0/24",)),
    ]
    for attrs, prefixes in announcements:
        client.announce(Update(attributes=attrs, nlri=prefixes))
    expected = {
        "185.50.0.0/24": (True, []),
        "185.50.1.0/24": (True, []),
        "10.99.0.0/16": (False, ["bogon"]),
        "185.51.0.0/24": (False, ["invalid_left_most_asn"]),
        "185.52.0.0/24": (False, ["transit_free_asn_in_as_path"]),
        "185.53.0.128/25": (False, ["invalid_prefix_length"]),
        "185.54.0.0/24": (False, ["invalid_next_hop"]),
    }
    got = wait_for(lambda: (lambda v: v if len(v) == len(expected) else None)(
        _by_prefix(_verdicts(speaker))), 60, "a verdict for every route")
    assert got == expected
    decisions = wait_for(lambda: (lambda d: d if len(d) == 2 else None)(
        _decided(speaker)), 60, "a decision for each accepted route")
    assert {p: d.best.session.peer_address for p, d in decisions.items()} == {
        "185.50.0.0/24": "127.0.0.2", "185.50.1.0/24": "127.0.0.2"}

    def new_verdicts(seen: set[str]) -> list[Verdict] | None:
        fresh = [v for v in _verdicts(speaker) if v.event_id not in seen]
        return fresh or None

    seen = {v.event_id for v in _verdicts(speaker)}
    result = _ixrs("load-rpki", _vrps(tmp_path / "invalid.json", 64496), *common)
    assert result.returncode == 0, result.stderr
    new = wait_for(lambda: new_verdicts(seen), 60, "the re-validation")
    assert _by_prefix(new) == {"185.50.0.0/24": (False, ["rpki_invalid"])}, \
        "only the route the VRP covers gets a new verdict"
    assert any(ref.kind == "rpki-vrps" and ref.version for ref in new[0].datasets)
    wait_for(lambda: _decided(speaker)["185.50.0.0/24"].best is None, 60,
             "the RPKI-invalid route withdrawn from the decisions")

    seen |= {v.event_id for v in new}
    assert _ixrs("load-rpki", _vrps(tmp_path / "valid.json", 3333), *common).returncode == 0
    again = wait_for(lambda: new_verdicts(seen), 60, "the second re-validation")
    assert _by_prefix(again) == {"185.50.0.0/24": (True, [])}
    client.close()


def test_load_rpki_refuses_a_bad_file(broker, topic_prefix: str, tmp_path: Path) -> None:
    bad = tmp_path / "vrps.json"
    bad.write_text('{"roas": [{"asn": "AS3333", "prefix": "not-a-prefix", "maxLength": 24}]}')
    result = _ixrs("load-rpki", str(bad), "--bootstrap", broker.bootstrap,
                   "--topic-prefix", topic_prefix)
    assert result.returncode == 2
    assert str(bad) in result.stderr


@pytest.mark.parametrize("pipeline", ["irr"], indirect=True)
def test_irr_lists_and_the_prefix_report(pipeline, tmp_path: Path) -> None:
    speaker, common = pipeline
    client = BgpTestClient("127.0.0.2", speaker.address, 20002)
    client.establish()
    attrs = Attributes(origin=Origin.IGP, next_hop="127.0.0.2", as_path=_path(20002, 3333))
    client.announce(Update(attributes=attrs, nlri=("185.50.0.0/24", "185.60.0.0/24")))
    first = wait_for(lambda: (lambda v: v if len(v) == 2 else None)(
        _by_prefix(_verdicts(speaker))), 60, "the verdicts before any IRR data")
    assert first["185.50.0.0/24"] == (False, ["origin_not_in_as_set", "prefix_not_in_as_set"])

    irr = tmp_path / "irr"
    irr.mkdir()
    (irr / "AS20002.json").write_text(json.dumps({"NN": [
        {"prefix": "185.50.0.0/23", "exact": False, "greater-equal": 24, "less-equal": 24}]}))
    (irr / "AS20002.asns.json").write_text(json.dumps({"NN": [3333, 20002]}))
    # Taken before the load: the worker may re-validate before load-irr even returns.
    seen = {v.event_id for v in _verdicts(speaker)}
    result = _ixrs("load-irr", str(irr), *common)
    assert result.returncode == 0, result.stderr
    assert "AS20002" in result.stdout

    wait_for(lambda: any(p == "185.50.0.0/24" and outcome == (True, []) for p, outcome in
                         _by_prefix([v for v in _verdicts(speaker)
                                     if v.event_id not in seen]).items()),
             60, "185.50.0.0/24 accepted once its list is loaded")

    report = _ixrs("report", "prefixes", "--client", "AS20002", *common)
    assert report.returncode == 0, report.stderr
    [line] = report.stdout.splitlines()
    got = json.loads(line)
    assert got["client"] == {"asn": 20002, "ip": "127.0.0.2"}
    assert got["not_covered"] == ["185.60.0.0/24"]
    assert got["not_announced"] == ["185.50.0.0/23"]
    assert got["announced"] == 2
    client.close()


def test_report_names_an_unknown_client(broker, topic_prefix: str) -> None:
    result = _ixrs("report", "prefixes", "--client", "AS1", "--bootstrap", broker.bootstrap,
                   "--topic-prefix", topic_prefix,
                   "--general", str(ROOT / "examples" / "general.yml"),
                   "--clients", str(ROOT / "examples" / "clients.yml"))
    assert result.returncode == 2
    assert "--client: AS1" in result.stderr


def test_sighup_reloads_and_publishes_the_configuration(broker, topic_prefix: str,
                                                         tmp_path: Path) -> None:
    from ixrs import topics
    from ixrs.eventlog import SingleObjectFraming, read_partition

    clients = tmp_path / "clients.yml"
    clients.write_text('clients:\n  - asn: 20002\n    ip: "127.0.0.2"\n')
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ixrs", "worker", "--bootstrap", broker.bootstrap,
             "--topic-prefix", topic_prefix, "--general", str(ROOT / "examples" / "general.yml"),
             "--clients", str(clients), "--state-dir", str(tmp_path / "state")],
            stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    topic = topics.CONFIG.name(topic_prefix)

    def versions() -> list[str]:
        return [e.version for _o, e in read_partition(broker.bootstrap, topic, 0,
                                                      SingleObjectFraming())]

    try:
        wait_for(lambda: "worker: started" in log.read_text(), 30, "the worker")
        first = wait_for(versions, 30, "the first configuration event")
        clients.write_text(clients.read_text() + '  - asn: 20003\n    ip: "127.0.0.3"\n')
        worker.send_signal(signal.SIGHUP)
        both = wait_for(lambda: (lambda v: v if len(v) == 2 else None)(versions()), 30,
                        "the reloaded configuration")
        assert both[0] == first[0] and both[1] != first[0]
        assert worker.poll() is None, "SIGHUP reloads, it does not stop the worker"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
